import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { clientError } from '../../../src/errors/error-codes.js';
import { noteOrigin } from '../../../src/errors/error-origin.js';
import { createLogger } from '../../../src/observability/logger.js';
import { counterValue } from '../../../src/observability/metrics.js';
import { createErrorMask } from '../../../src/plugins/mask-error.js';
import { capturedLogs } from '../../helpers/captured-logs.js';

const mask = createErrorMask(createLogger('silent'));
const fromResolver = (original: Error) => new GraphQLError(original.message, { originalError: original, path: ['task'] });

function prismaError(code: string, originalCode?: string) {
  return Object.assign(
    new Error(`Invalid \`prisma.task.create()\`: Database error. Code: \`${originalCode}\`. INSERT INTO "tasks" ...`),
    {
      code,
      meta: originalCode ? { driverAdapterError: { cause: { originalCode, kind: 'postgres' } } } : {},
    },
  );
}

describe('the error mask', () => {
  it('turns an RLS refusal (SQLSTATE 42501) into a generic FORBIDDEN and counts it', () => {
    const before = counterValue('rls_violation');
    const masked = mask(fromResolver(prismaError('P2039', '42501'))) as GraphQLError;
    expect(masked.message).toBe('Access denied');
    expect(masked.extensions).toEqual({ code: 'FORBIDDEN' });
    expect(masked.path).toEqual(['task']);
    expect(counterValue('rls_violation')).toBe(before + 1);
  });

  it('logs an RLS refusal as a security event naming the request, tenant and user the execution noted', () => {
    const { logger, lines } = capturedLogs();
    const original = prismaError('P2039', '42501');
    noteOrigin(original, { requestId: 'req-rls', tenantId: 'tenant-1', userId: 'user-1' });
    createErrorMask(logger)(fromResolver(original));
    expect(lines).toMatchObject([
      { level: 40, securityEvent: 'rls_violation', requestId: 'req-rls', tenantId: 'tenant-1', userId: 'user-1', path: ['task'] },
    ]);
  });

  it('hides SQL, stacks and messages of unexpected errors', () => {
    const masked = mask(fromResolver(new TypeError('cannot read tenant_id of undefined at SELECT ...'))) as GraphQLError;
    expect(masked.message).toBe('Unexpected error');
    expect(masked.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(JSON.stringify(masked.toJSON())).not.toMatch(/SELECT|tenant_id|TypeError/);
  });

  it('maps a record that is not there to NOT_FOUND and keeps coded client errors as they are', () => {
    expect((mask(fromResolver(prismaError('P2025'))) as GraphQLError).extensions).toEqual({ code: 'NOT_FOUND' });
    const coded = clientError('BAD_USER_INPUT', { fields: [{ field: 'input.title', message: 'must not be empty' }] });
    expect(mask(fromResolver(coded))).toBeInstanceOf(GraphQLError);
    expect((mask(fromResolver(coded)) as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    const syntax = new GraphQLError('Syntax Error: Expected Name, found <EOF>.');
    expect(mask(syntax)).toBe(syntax);
  });

  it('maps a value the database refused (SQLSTATE class 22, or Prisma’s code for it) to BAD_USER_INPUT, logged at warn with the request id', () => {
    const { logger, lines } = capturedLogs();
    const logged = createErrorMask(logger);
    const refused = [
      prismaError('P2007', '22P02'), // invalid text for a UUID
      prismaError('P2039', '22021'), // a NUL byte in text
      prismaError('P2039', '22001'), // too long for the column
      prismaError('P2023'), // Prisma could not read the value as the column's type
      prismaError('P2020'), // out of range
    ];
    for (const [index, original] of refused.entries()) {
      noteOrigin(original, { requestId: `req-${index}` });
      const masked = logged(fromResolver(original)) as GraphQLError;
      expect(masked.message).toBe('Invalid input');
      expect(masked.extensions).toEqual({ code: 'BAD_USER_INPUT' });
      expect(JSON.stringify(masked.toJSON())).not.toMatch(/INSERT|tasks|uuid|UTF8|Code/);
    }
    expect(lines.map((line) => [line.level, line.requestId, line.code])).toEqual([
      [40, 'req-0', '22P02'],
      [40, 'req-1', '22021'],
      [40, 'req-2', '22001'],
      [40, 'req-3', 'P2023'],
      [40, 'req-4', 'P2020'],
    ]);
  });

  it('keeps other database errors internal: a syntax error, a query Prisma could not validate', () => {
    expect((mask(fromResolver(prismaError('P2010', '42601'))) as GraphQLError).extensions).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
    });
    const invalidQuery = Object.assign(new Error('Invalid `prisma.task.findMany()` invocation'), {
      name: 'PrismaClientValidationError',
    });
    expect((mask(fromResolver(invalidQuery)) as GraphQLError).extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });
});
