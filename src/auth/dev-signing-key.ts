import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

/** The local development signing key: only ever used when no JWKS URL is configured. */
export interface DevSigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

const FILE_NAME = 'dev-signing-key.json';

export async function createDevSigningKey(): Promise<DevSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid: randomUUID(), alg: 'ES256', privateKey, publicKey };
}

/** Loads the key kept in the data folder, creating it (readable by this user only) the first time. */
export async function loadOrCreateDevSigningKey(dataDir: string): Promise<DevSigningKey> {
  const path = join(dataDir, FILE_NAME);
  const stored = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stored !== undefined) {
    const jwk = JSON.parse(stored) as JWK & { kid: string };
    const { d: _private, ...publicJwk } = jwk;
    return {
      kid: jwk.kid,
      alg: 'ES256',
      privateKey: (await importJWK(jwk, 'ES256')) as CryptoKey,
      publicKey: (await importJWK(publicJwk, 'ES256')) as CryptoKey,
    };
  }
  const key = await createDevSigningKey();
  await mkdir(dataDir, { recursive: true });
  const jwk = { ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg };
  // Two servers starting on one data folder must end up with one key: written whole beside it, then
  // linked into place only if no key is there yet (atomic); the loser loads the winner's.
  const draft = `${path}.${process.pid}.${key.kid}`;
  await writeFile(draft, JSON.stringify(jwk), { mode: 0o600 });
  try {
    await link(draft, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return loadOrCreateDevSigningKey(dataDir);
  } finally {
    await unlink(draft).catch(() => {});
  }
  return key;
}
