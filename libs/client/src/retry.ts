import { isJobError, type JobError } from '#contracts';
import { JobsError } from './jobs-error.js';
import { TRANSIENT_ERROR_CODES, transientNatsFailure } from './transient-failure.js';

/** How a call is retried on a transient failure (TIMEOUT, UNAVAILABLE, no reply, no responders, a lost connection). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Wait before the first retry; it doubles at each further one. */
  backoffMs: number;
  /** Longest wait between two attempts. */
  maxBackoffMs: number;
}

/** 4 attempts, 200 ms, 400 ms, then 800 ms apart: with a 5 s request timeout, a call gives up within about 22 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, backoffMs: 200, maxBackoffMs: 2_000 };

/** One request: the reply's body, parsed; throws what NATS throws (a timeout, no responders, ...). */
export type RequestFn = (subject: string, body: string, timeoutMs: number) => Promise<unknown>;

export interface RetryingRequest {
  subject: string;
  /** Serialized once: every attempt sends the very same bytes, so a command keeps its commandId. */
  body: string;
  timeoutMs: number;
  policy: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends a request until it gets an ok reply, retrying transient failures only, up to the policy's
 * attempts. Returns the ok reply; throws a JobsError for an error reply (the last transient one once
 * the attempts ran out) or a NATS failure that a retry cannot cure, as it came.
 */
export async function requestWithRetry<R>(
  request: RequestFn,
  { subject, body, timeoutMs, policy, sleep = pause }: RetryingRequest,
): Promise<R> {
  let failure: JobsError | undefined;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) await sleep(Math.min(policy.backoffMs * 2 ** (attempt - 2), policy.maxBackoffMs));
    let reply: unknown;
    try {
      reply = await request(subject, body, timeoutMs);
    } catch (error) {
      const code = transientNatsFailure(error);
      if (code === null) throw error;
      const message =
        code === 'TIMEOUT'
          ? `no reply on ${subject} within ${timeoutMs} ms: the service is slow or down; send the call again later (a command with the same commandId)`
          : `no service answers ${subject} (or the connection to NATS was lost): start it, then send the call again (a command with the same commandId)`;
      failure = new JobsError({ code, message }, { cause: error });
      continue;
    }
    const error = replyError(reply, subject);
    if (error === null) return reply as R;
    failure = new JobsError(error);
    if (!TRANSIENT_ERROR_CODES.has(error.code)) throw failure;
  }
  throw failure!;
}

/** The error a reply carries; null for an ok reply. A reply that is neither is the service's fault: INTERNAL. */
function replyError(reply: unknown, subject: string): JobError | null {
  if (typeof reply === 'object' && reply !== null) {
    const { ok, error } = reply as { ok?: unknown; error?: unknown };
    if (ok === true) return null;
    if (ok === false && isJobError(error)) return error;
  }
  return { code: 'INTERNAL', message: `the reply on ${subject} is not one of API version 1: is the service the one this client is for?` };
}
