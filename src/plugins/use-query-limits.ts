import {
  type ASTNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface QueryLimits {
  /** Deepest field nesting an operation may have (introspection included). */
  maxDepth: number;
  /** Aliased fields an operation may have: aliases multiply work without deepening a query. */
  maxAliases: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 12, maxAliases: 30 };

/**
 * Refuses operations too deep or too wide to be fair to the other tenants on the same server,
 * before any resolver or SQL runs.
 */
export function useQueryLimits(limits: QueryLimits = DEFAULT_QUERY_LIMITS): Plugin {
  const rule: ValidationRule = (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>(
      context
        .getDocument()
        .definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    );
    return {
      OperationDefinition(operation) {
        const measured = measure(operation.selectionSet, fragments, new Set());
        if (measured.depth > limits.maxDepth) {
          context.reportError(
            limitError(`Query is nested ${measured.depth} levels deep; at most ${limits.maxDepth} are allowed`, operation),
          );
        }
        if (measured.aliases > limits.maxAliases) {
          context.reportError(
            limitError(`Query uses ${measured.aliases} aliases; at most ${limits.maxAliases} are allowed`, operation),
          );
        }
      },
    };
  };
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}

function measure(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): { depth: number; aliases: number } {
  let depth = 0;
  let aliases = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) aliases++;
      const inner = selection.selectionSet ? measure(selection.selectionSet, fragments, visiting) : { depth: 0, aliases: 0 };
      depth = Math.max(depth, 1 + inner.depth);
      aliases += inner.aliases;
    } else {
      const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined;
      // A fragment cycle is reported by GraphQL's own rules; here it just stops the walk.
      if (name && visiting.has(name)) continue;
      const set = name
        ? fragments.get(name)?.selectionSet
        : selection.kind === Kind.INLINE_FRAGMENT
          ? selection.selectionSet
          : undefined;
      if (!set) continue;
      if (name) visiting.add(name);
      const inner = measure(set, fragments, visiting);
      if (name) visiting.delete(name);
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
    }
  }
  return { depth, aliases };
}

function limitError(message: string, node: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } });
}
