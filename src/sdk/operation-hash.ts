/**
 * The id of a persisted operation: the SHA-256 of its exact text, in hex. WebCrypto, so the same
 * function runs in Node, browsers and the manifest generator.
 */
export async function operationHash(document: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(document));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
