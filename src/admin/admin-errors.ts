/** A refused administrative command: the message is for the operator, as is. */
export class AdminError extends Error {
  override name = 'AdminError';
}
