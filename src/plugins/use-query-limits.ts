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
  /** Lexical tokens a document may have: the parser stops at the first one over. */
  maxTokens: number;
  /** Deepest field nesting an operation may have; introspection is bounded by the token limit. */
  maxDepth: number;
  /** Aliased fields an operation may have: aliases multiply work without deepening a query. */
  maxAliases: number;
}

/**
 * Introspection's own selections: GraphiQL's and every IDE's standard introspection query is 15
 * levels deep through `ofType`, and would be refused by a depth limit meant for data. It reads no
 * rows; its size is bounded by the token limit like any document, and its aliases by the alias
 * limit (the cost limit does not see inside it).
 */
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/**
 * Refuses documents too long and operations too deep or too wide to be fair to the other tenants
 * on the same server: the token limit while parsing (graphql-js stops at the first token over, so
 * a huge document costs no more than a small one), depth and aliases before any resolver or SQL
 * runs. What an operation asks for in rows is the cost limit's business (src/schema/builder.ts).
 */
export function useQueryLimits(limits: QueryLimits): Plugin {
  const rule: ValidationRule = (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>(
      context
        .getDocument()
        .definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    );
    return {
      OperationDefinition(operation) {
        const measured = measure(operation.selectionSet, fragments, new Map());
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
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => parseFn(source, { ...options, maxTokens: limits.maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}

interface Measure {
  depth: number;
  aliases: number;
}

/**
 * Depth and aliases of a selection set. A fragment is measured once and its result reused wherever
 * it is spread: walked again at each spread, `fragment F1 { ...F2 ...F2 }`, `F2 { ...F3 ...F3 }`, …
 * doubled the work per level, and a 1 KB document held the event loop for minutes.
 */
function measure(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  measured: Map<string, Measure | 'visiting'>,
): Measure {
  let depth = 0;
  let aliases = 0;
  for (const selection of selectionSet.selections) {
    let inner: Measure;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) aliases++;
      if (INTROSPECTION_ROOTS.has(selection.name.value)) {
        // Exempt from the depth limit, not from the alias limit: the standard query uses no aliases,
        // while aliased copies of `types { fields { type { ofType } } }` multiply at every level.
        if (selection.selectionSet) aliases += measure(selection.selectionSet, fragments, measured).aliases;
        continue;
      }
      inner = selection.selectionSet ? measure(selection.selectionSet, fragments, measured) : { depth: 0, aliases: 0 };
      depth = Math.max(depth, 1 + inner.depth);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(selection.selectionSet, fragments, measured);
      depth = Math.max(depth, inner.depth);
    } else {
      const name = selection.name.value;
      const known = measured.get(name);
      // A fragment cycle is reported by GraphQL's own rules; here it just stops the walk.
      if (known === 'visiting') continue;
      if (known) {
        inner = known;
      } else {
        const fragment = fragments.get(name);
        if (!fragment) continue;
        measured.set(name, 'visiting');
        inner = measure(fragment.selectionSet, fragments, measured);
        measured.set(name, inner);
      }
      depth = Math.max(depth, inner.depth);
    }
    aliases += inner.aliases;
  }
  return { depth, aliases };
}

function limitError(message: string, node: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } });
}
