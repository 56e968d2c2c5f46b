import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { JobEvent } from '#contracts';
import { decodeCommit } from './commit-decoding.js';

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
 * `signal` aborts or the caller stops iterating. An ordered consumer (ephemeral, no acks) reads them;
 * nats.js recreates it after a reconnection. When its server is lost without the connection telling
 * (a cluster node dies), two missed heartbeats end it, and a new one goes on after the last commit.
 * A commit that is not one the service writes is skipped (see `decodeCommit`). Each consumer is
 * deleted on the server once it is no longer read, so a follower that goes away (an SSE client)
 * leaves nothing behind instead of a consumer left to expire.
 */
export async function* followEvents(js: JetStreamClient, feed: EventFeed): AsyncGenerator<JobEvent, void, undefined> {
  const { signal } = feed;
  let after = feed.fromPosition;
  while (!signal?.aborted) {
    const consumer = await js.consumers.get(feed.stream, {
      // A string (not an array) sends filter_subject, which nats-server 2.9 understands.
      filter_subjects: feed.filter,
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
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
        const events = decodeCommit(message.subject.slice(feed.eventsSubjectPrefix.length), message.seq, message.string());
        if (events !== null) yield* events;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      messages.stop();
      await consumer.delete().catch(() => undefined);
    }
  }
}
