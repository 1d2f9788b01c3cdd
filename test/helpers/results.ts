import type { Result } from '../../src/sdk/index.js';

/** The data of an SDK result, or a test failure naming the error code. */
export function dataOf<Data>(result: Result<Data>): Data {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.data;
}

/** The error of an SDK result, or undefined when it succeeded. */
export const errorOf = <Data>(result: Result<Data>) => (result.ok ? undefined : result.error);
