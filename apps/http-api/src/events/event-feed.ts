import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { JobEvent } from '#contracts';
import { decodeCommit } from '#client';

export interface EventFeedOptions {
  stream: string;
  /** `<prefix>.events.`: what precedes the job id in a commit's subject. */
  eventsSubjectPrefix: string;
  /** `<prefix>.events.<jobId>` or `<prefix>.events.>`. */
  filter: string;
  /** The position of the last commit already seen: the feed starts after it. */
  fromPosition: number;
  signal: AbortSignal;
}

const PULL_EXPIRES_MS = 5_000;

/**
 * The events after `fromPosition` on `filter`, live, as the SDK's `watch` gives them, except that
 * each consumer is deleted on the server as soon as it is no longer read: an SSE client that goes
 * away must leave nothing behind (the SDK's feed leaves its ordered consumer to expire after minutes).
 */
export async function* followJobEvents(js: JetStreamClient, feed: EventFeedOptions): AsyncGenerator<JobEvent, void, undefined> {
  const { signal } = feed;
  let after = feed.fromPosition;
  while (!signal.aborted) {
    const consumer = await js.consumers.get(feed.stream, {
      filter_subjects: feed.filter,
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume({ expires: PULL_EXPIRES_MS });
    const stop = () => messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    void (async () => {
      for await (const status of messages.status()) if (status.type === 'heartbeats_missed') stop();
    })();
    try {
      if (signal.aborted) return;
      for await (const message of messages) {
        after = message.seq;
        const events = decodeCommit(message.subject.slice(feed.eventsSubjectPrefix.length), message.seq, message.string());
        if (events !== null) yield* events;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      messages.stop();
      await consumer.delete().catch(() => undefined);
    }
  }
}
