import { type DocumentNode, type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../observability/logger.js';
import { currentRequestId } from '../observability/request-scope.js';
import type { GraphQLContext } from '../schema/context.js';
import type { WebSocketInitialContext } from '../subscriptions/websocket-server.js';

/** How much of a refused document a log line holds (the rest is counted, not written). */
export const LOGGED_DOCUMENT_CHARS = 500;
const LOGGED_ERRORS = 5;
const LOGGED_ERROR_CHARS = 200;

/**
 * One log line per operation: request id, tenant, user, operation name, duration, error count; a
 * subscription gets one when it starts and one when it ends.
 * A document that does not parse or validate never reaches execution: it gets one line of its own,
 * at info like any client mistake ("bad user input"), with the request id, the phase, the errors
 * (the first few, capped) and the start of the document (capped: a client may send 100 KB).
 */
export function useOperationLog(logger: Logger): Plugin<GraphQLContext> {
  // The text each parse was given, by its request's context (HTTP and websocket alike).
  const documents = new WeakMap<object, string>();
  const refused = (context: object, phase: 'parse' | 'validation', errors: readonly (Error | GraphQLError)[]) => {
    const initial = context as Partial<WebSocketInitialContext>;
    const document = documents.get(context);
    logger.info(
      {
        requestId: currentRequestId() ?? initial.websocket?.requestId,
        phase,
        errorCount: errors.length,
        errors: errors.slice(0, LOGGED_ERRORS).map((error) => cap(error.message, LOGGED_ERROR_CHARS)),
        document: document === undefined ? undefined : cap(document, LOGGED_DOCUMENT_CHARS),
        documentLength: document?.length,
      },
      'bad user input',
    );
  };
  return {
    // Around the whole parse: a syntax error Yoga answers from its parse-error cache is thrown
    // before any plugin's after-parse hook runs.
    instrumentation: {
      parse({ context }, parse) {
        try {
          parse();
        } catch (error) {
          if (error instanceof Error) refused(context, 'parse', [error]);
          throw error;
        }
      },
    },
    onParse({ context, params }) {
      documents.set(context, typeof params.source === 'string' ? params.source : params.source.body);
    },
    onValidate({ context }) {
      return ({ result }) => {
        if (result.length > 0) refused(context, 'validation', result);
      };
    },
    onExecute({ args }) {
      const started = performance.now();
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result && Array.isArray(result.errors) ? result.errors.length : 0;
          logger.info({ ...operation(args), durationMs: since(started), errors }, 'graphql operation');
        },
      };
    },
    // A subscription (websocket or SSE) gets a line when it starts and one when it ends, with how
    // long it lasted and how many events it sent: it may last hours, so one line at its end alone
    // would leave it unseen while it runs.
    onSubscribe({ args }) {
      const started = performance.now();
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) {
            // Refused before it started (its arguments): one line, like an operation. (A refusal for
            // want of a slot stops the hooks before this one, so it gets no line here.)
            const errors = Array.isArray(result.errors) ? result.errors.length : 0;
            logger.info({ ...operation(args), durationMs: since(started), errors }, 'graphql subscription refused');
            return;
          }
          logger.info(operation(args), 'graphql subscription started');
          let events = 0;
          let errors = 0;
          return {
            onNext({ result: event }) {
              events++;
              if (Array.isArray(event.errors)) errors += event.errors.length;
            },
            onEnd() {
              logger.info({ ...operation(args), durationMs: since(started), events, errors }, 'graphql subscription ended');
            },
          };
        },
      };
    },
  };
}

/** What a log line says of an operation: who ran which. */
function operation(args: { contextValue: unknown; document: DocumentNode; operationName?: string | null }) {
  const { tenant } = args.contextValue as GraphQLContext;
  return {
    requestId: tenant.requestId,
    tenantId: tenant.tenantId,
    userId: tenant.userId,
    operationName: getOperationAST(args.document, args.operationName)?.name?.value ?? null,
  };
}

/** Milliseconds since `started`, to two decimals. */
function since(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

function cap(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars)}…` : text;
}
