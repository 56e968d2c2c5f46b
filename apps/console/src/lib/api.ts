import type { CommandOkReply } from '#contracts';
import { type ConsoleError, describeError } from './errors.js';

/** A refused or failed request, with its words for people. */
export class ApiError extends Error {
  constructor(readonly error: ConsoleError) {
    super(error.words);
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  query?: URLSearchParams;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

let onSessionEnded: () => void = () => undefined;

/** What to do when any request says the session has ended (the login page). */
export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

/** One request to the HTTP API, with the session cookie: its JSON reply, or an ApiError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const query = options.query?.toString();
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}${query ? `?${query}` : ''}`, {
      method: options.method ?? 'GET',
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(describeError(0, null));
  }
  const body: unknown = await response.json().catch(() => null);
  if (response.ok && (body as { ok?: unknown } | null)?.ok === true) return body as T;
  const error = describeError(response.status, body);
  if (error.code === 'UNAUTHENTICATED' && !path.startsWith('/session')) onSessionEnded();
  throw new ApiError(error);
}

/** A key that makes a command sent twice (a retry, a double click) count once. */
export function idempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Sends one of a job's commands (`start`, `pause`, `cancel`, ...). */
export function sendCommand(jobId: string, command: string, key = idempotencyKey()): Promise<CommandOkReply> {
  return api<CommandOkReply>(`/jobs/${encodeURIComponent(jobId)}/${command}`, {
    method: 'POST',
    body: {},
    headers: { 'Idempotency-Key': key },
  });
}

export interface User {
  name: string;
  rights: string[];
}
