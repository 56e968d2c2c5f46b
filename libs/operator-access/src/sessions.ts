import { createHmac } from 'node:crypto';
import type { Operator } from './access-rules.js';
import { sameHash } from './tokens.js';
import { sessionMaterialOf, type UsersFile } from './users-file.js';

/** The console's login, kept in a cookie: `issue` after a token authenticated, `read` on each request. */
export interface Sessions {
  issue(operator: Operator): string;
  /** The operator of a valid session, with the rights the users file gives them now; null otherwise. */
  read(cookieValue: string): Operator | null;
}

export interface SessionsOptions {
  /** How long a session lasts. Default 12 hours. */
  ttlMs?: number;
  now?: () => number;
}

export const DEFAULT_SESSION_TTL_MS = 12 * 3600 * 1000;

/** What a session value says: who, until when, and which of their tokens it was opened with. */
export interface SessionClaims {
  name: string;
  expiresAt: number;
  tokenFingerprint: string;
}

const VERSION = 'v1';
/** Keeps a MAC made for something else with the same key from passing as a session's. */
const MAC_CONTEXT = `jobs-session.${VERSION}.`;
/** Far above any session this code issues; refuses oversized cookies before any work. */
const MAX_SESSION_LENGTH = 1_024;

/** `v1.<claims, base64url JSON>.<HMAC-SHA256 of them, base64url>`: signed, not encrypted (it holds no secret). */
export function encodeSession(claims: SessionClaims, key: Buffer): string {
  const body = Buffer.from(JSON.stringify({ u: claims.name, x: claims.expiresAt, f: claims.tokenFingerprint })).toString('base64url');
  return `${VERSION}.${body}.${mac(body, key)}`;
}

/** The claims of a session value signed with `key` and not expired at `now`; null for anything else. */
export function decodeSession(value: string, key: Buffer, now: number): SessionClaims | null {
  if (value.length > MAX_SESSION_LENGTH) return null;
  const [version, body, signature, ...rest] = value.split('.');
  if (version !== VERSION || body === undefined || signature === undefined || rest.length > 0) return null;
  if (!sameHash(Buffer.from(signature, 'base64url'), Buffer.from(mac(body, key), 'base64url'))) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof claims !== 'object' || claims === null) return null;
  const { u, x, f } = claims as Record<string, unknown>;
  if (typeof u !== 'string' || typeof x !== 'number' || typeof f !== 'string') return null;
  if (!(now < x)) return null;
  return { name: u, expiresAt: x, tokenFingerprint: f };
}

function mac(body: string, key: Buffer): string {
  return createHmac('sha256', key).update(MAC_CONTEXT).update(body).digest('base64url');
}

/**
 * Stateless sessions signed with the users file's session secret, so that every HTTP instance
 * reading the file accepts them. A session ends when it expires, when its user is removed or gets a
 * new token, and when the secret changes (which ends every session).
 */
export function sessionsFor(users: UsersFile, options: SessionsOptions = {}): Sessions {
  const material = sessionMaterialOf(users);
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  return {
    issue(operator) {
      const user = material.user(operator.name);
      if (user === null) throw new Error(`no session for ${operator.name}: the users file has no such user`);
      return encodeSession(
        { name: operator.name, expiresAt: now() + ttlMs, tokenFingerprint: user.tokenFingerprint },
        material.sessionKey(),
      );
    },
    read(cookieValue) {
      const claims = decodeSession(cookieValue, material.sessionKey(), now());
      if (claims === null) return null;
      const user = material.user(claims.name);
      if (user === null || user.tokenFingerprint !== claims.tokenFingerprint) return null;
      return user.operator;
    },
  };
}
