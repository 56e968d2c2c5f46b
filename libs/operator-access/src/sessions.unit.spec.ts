import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeSession, encodeSession, type SessionClaims } from './sessions.js';

const key = randomBytes(32);
const claims: SessionClaims = { name: 'alice', expiresAt: 1_000_000, tokenFingerprint: 'fp-1' };

describe('a session value', () => {
  it('gives back its claims before it expires, with the key it was signed with', () => {
    const value = encodeSession(claims, key);
    expect(value).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(decodeSession(value, key, 999_999)).toEqual(claims);
  });

  it('ends at its expiry time', () => {
    const value = encodeSession(claims, key);
    expect(decodeSession(value, key, 1_000_000)).toBeNull();
    expect(decodeSession(value, key, 2_000_000)).toBeNull();
  });

  it('signed with another key (another users file) is refused', () => {
    expect(decodeSession(encodeSession(claims, randomBytes(32)), key, 0)).toBeNull();
  });

  it('with changed claims is refused: another name, a later expiry', () => {
    const [version, , signature] = encodeSession(claims, key).split('.');
    for (const forged of [
      { u: 'root', x: claims.expiresAt, f: claims.tokenFingerprint },
      { u: claims.name, x: claims.expiresAt * 10, f: claims.tokenFingerprint },
    ]) {
      const body = Buffer.from(JSON.stringify(forged)).toString('base64url');
      expect(decodeSession(`${version}.${body}.${signature}`, key, 0)).toBeNull();
    }
  });

  it('that is not a session is refused, not thrown at', () => {
    const value = encodeSession(claims, key);
    const [, body, signature] = value.split('.');
    for (const bad of ['', 'v1', 'v1..', `v2.${body}.${signature}`, `${value}.more`, `v1.${body}.`, 'x'.repeat(5_000), 'v1.%%%.%%%']) {
      expect(decodeSession(bad, key, 0)).toBeNull();
    }
  });

  it('whose signed claims are of the wrong types is refused', () => {
    // Signed with the right key, so only the claims check can refuse them.
    for (const odd of [
      { ...claims, name: 42 },
      { ...claims, expiresAt: '9999999999999' },
      { ...claims, tokenFingerprint: null },
    ]) {
      expect(decodeSession(encodeSession(odd as unknown as SessionClaims, key), key, 0)).toBeNull();
    }
  });
});
