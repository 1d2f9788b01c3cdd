// A graphql-codegen plugin: the typed table of subscription operations that createClient's
// `subscribe` is generic over (typescript-graphql-request covers queries and mutations only).
// Runs after typescript-operations and typescript-graphql-request in the same file, whose
// `<Name>Subscription`, `<Name>SubscriptionVariables` and `<Name>Document` it refers to.
module.exports = {
  plugin(_schema, documents) {
    const names = [];
    for (const { document } of documents) {
      for (const definition of document?.definitions ?? []) {
        if (definition.kind === 'OperationDefinition' && definition.operation === 'subscription' && definition.name) {
          names.push(definition.name.value);
        }
      }
    }
    names.sort();
    const entries = names.map((name) => `  ${name}: { variables: ${name}SubscriptionVariables; data: ${name}Subscription };`);
    const documentsTable = names.map((name) => `  ${name}: ${name}Document,`);
    return [
      '/** Every subscription operation of schema/operations: its variables and the data of each event. */',
      'export interface SubscriptionOperations {',
      ...entries,
      '}',
      '',
      'export const subscriptionDocuments = {',
      ...documentsTable,
      '} as const;',
      '',
    ].join('\n');
  },
};
