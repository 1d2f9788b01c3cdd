import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Refuses `__schema` and `__type` at validation, before anything runs, with graphql-js's own rule:
 * the error names the field. Over websockets too, since they run the same plugins. `__typename`
 * stays: clients need it to tell union members apart.
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
