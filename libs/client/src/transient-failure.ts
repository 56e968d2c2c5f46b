import { ConnectionError, NoRespondersError, RequestError, TimeoutError } from '@nats-io/nats-core';
import type { ErrorCode } from '#contracts';

/** Error codes of a reply that a retry may cure: nothing was decided, or the retry with the same commandId tells. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TIMEOUT', 'UNAVAILABLE']);

/**
 * A failed NATS request worth sending again, as the code the service would have answered: `TIMEOUT`
 * (no reply in time) or `UNAVAILABLE` (no responders, the connection lost while reconnecting);
 * null for anything else. A closed or draining connection of the client's own is not transient,
 * nor is a permissions violation: the deployment refuses the subject, and will again.
 */
export function transientNatsFailure(error: unknown): 'TIMEOUT' | 'UNAVAILABLE' | null {
  // nats.js wraps the error that tells (a timeout, no responders) as a request error's cause.
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof TimeoutError) return 'TIMEOUT';
    if (cause instanceof NoRespondersError || cause instanceof ConnectionError) return 'UNAVAILABLE';
    // "connection disconnected", with no cause: the connection was lost and is coming back.
    if (cause instanceof RequestError && cause.cause === undefined && /disconnect/i.test(cause.message)) return 'UNAVAILABLE';
  }
  return null;
}
