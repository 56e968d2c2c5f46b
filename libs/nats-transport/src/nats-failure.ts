import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/nats-core';
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';

/**
 * NATS or JetStream gone or slow for a moment, not a fault of the service: `UNAVAILABLE` (no
 * responders, a 503, the connection closed, draining or reconnecting) or `TIMEOUT` (no answer in
 * time); null for anything else. A client retries the first two; nothing else is worth a retry.
 */
export function natsFailure(error: unknown): 'UNAVAILABLE' | 'TIMEOUT' | null {
  // nats.js wraps the error that tells (a request's NoRespondersError, JetStream's API error) as a cause.
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof TimeoutError) return 'TIMEOUT';
    if (
      cause instanceof NoRespondersError ||
      cause instanceof ClosedConnectionError ||
      cause instanceof DrainingConnectionError ||
      cause instanceof ConnectionError
    ) {
      return 'UNAVAILABLE';
    }
    if (cause instanceof JetStreamApiError || cause instanceof JetStreamError) {
      // A JetStream API error carries its HTTP-like status as `status`, a status message as `code`.
      const status = cause instanceof JetStreamApiError ? cause.status : (cause as { code?: unknown }).code;
      if (status === 503) return 'UNAVAILABLE';
      if (status === 408) return 'TIMEOUT';
    }
    // "connection closed" or "disconnected", with no cause; under a permission violation, the deployment is at fault.
    if (cause instanceof RequestError && !(cause.cause instanceof Error)) return 'UNAVAILABLE';
  }
  return null;
}
