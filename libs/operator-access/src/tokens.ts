import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Marks an API token of this product, so that a leaked one is recognised by secret scanners and by people. */
export const TOKEN_PREFIX = 'jt_';

/** A new API token: 32 random bytes, base64url, after the prefix. */
export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * The token's SHA-256, in hex, as the users file stores it. A fast hash is enough here, unlike for
 * passwords: a token holds 256 random bits, so no guessing against a stolen hash can succeed, and a
 * slow hash (bcrypt, scrypt) would only add its cost to every request.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether two hashes (of the same length, as SHA-256 hashes are) are equal, in constant time. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
