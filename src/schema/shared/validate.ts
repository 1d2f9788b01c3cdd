import type { z } from 'zod';
import { badInput } from '../../errors/error-codes.js';

/** Parses `input` or throws BAD_USER_INPUT naming each field at fault (`input.title`, …). */
export function validate<Schema extends z.ZodType>(schema: Schema, input: unknown, prefix = 'input'): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw badInput(
    result.error.issues.map((issue) => ({
      field: [prefix, ...issue.path.map(String)].join('.'),
      message: issue.message,
    })),
  );
}
