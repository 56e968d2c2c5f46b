import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { EVENT_HEADERS, type JobEvent } from '#contracts';
import { decodeChange, decodeCommit, type JobChange } from './commit-decoding.js';

export interface EventFeed {
  stream: string;
  /** `<prefix>.events.`: what precedes the job id in a commit's subject. */
  eventsSubjectPrefix: string;
  /** `<prefix>.events.<jobId>` or `<prefix>.events.>`. */
  filter: string;
  /** The position of the last commit already seen: the feed starts after it (0: from the start). */
  fromPosition: number;
  signal?: AbortSignal;
}

/** Pulls that expire soon, so that the server's idle heartbeats come every 2.5 s and a lost consumer shows within 5 s. */
const PULL_EXPIRES_MS = 5_000;

/**
 * The events of the commits on `filter` after `fromPosition`, in stream order, following live until
 * `signal` aborts or the caller stops iterating. A commit that is not one the service writes is
 * skipped (see `decodeCommit`).
 */
export async function* followEvents(js: JetStreamClient, feed: EventFeed): AsyncGenerator<JobEvent, void, undefined> {
  for await (const events of followCommits(js, feed, false, (jobId, message) => decodeCommit(jobId, message.seq, message.string()))) {
    yield* events;
  }
}

/**
 * What changed, commit by commit, as `followEvents` would read them, from the commits' headers
 * alone: the server sends no bodies, and none is parsed. For a reader that reads the job's state
 * elsewhere (the HTTP API's live streams); a commit whose headers are not the service's is skipped
 * (see `decodeChange`).
 */
export function followChanges(js: JetStreamClient, feed: EventFeed): AsyncGenerator<JobChange, void, undefined> {
  return followCommits(js, feed, true, (jobId, message) =>
    decodeChange(jobId, message.seq, {
      types: message.headers?.get(EVENT_HEADERS.type),
      jobId: message.headers?.get(EVENT_HEADERS.jobId),
      version: message.headers?.get(EVENT_HEADERS.version),
    }),
  );
}

/**
 * The commits on `filter` after `fromPosition`, each decoded by `decode` (null: skipped). An ordered
 * consumer (ephemeral, no acks) reads them; nats.js recreates it after a reconnection. When its
 * server is lost without the connection telling (a cluster node dies), two missed heartbeats end it,
 * and a new one goes on after the last commit. Each consumer is deleted on the server once it is no
 * longer read, so a follower that goes away (an SSE client) leaves nothing behind instead of a
 * consumer left to expire.
 */
async function* followCommits<T>(
  js: JetStreamClient,
  feed: EventFeed,
  headersOnly: boolean,
  decode: (jobId: string, message: JsMsg) => T | null,
): AsyncGenerator<T, void, undefined> {
  const { signal } = feed;
  let after = feed.fromPosition;
  while (!signal?.aborted) {
    const consumer = await js.consumers.get(feed.stream, {
      // A string (not an array) sends filter_subject, which nats-server 2.9 understands.
      filter_subjects: feed.filter,
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
      ...(headersOnly ? { headers_only: true } : {}),
    });
    const messages = await consumer.consume({ expires: PULL_EXPIRES_MS });
    const stop = () => messages.stop();
    signal?.addEventListener('abort', stop, { once: true });
    void (async () => {
      for await (const status of messages.status()) if (status.type === 'heartbeats_missed') stop();
    })();
    try {
      if (signal?.aborted) return;
      for await (const message of messages) {
        after = message.seq;
        const decoded = decode(message.subject.slice(feed.eventsSubjectPrefix.length), message);
        if (decoded !== null) yield decoded;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      messages.stop();
      // Not awaited: the follower is done either way, and a connection closed meanwhile would hold
      // it for the request's whole timeout (a service's shutdown, 5 s).
      void consumer.delete().catch(() => undefined);
    }
  }
}
