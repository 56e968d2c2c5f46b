import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { EVENT_HEADERS } from '#contracts';
import { connectTestNats, deleteStream, isolation, type TestIsolation } from '#testing/nats';
import { until } from '#testing/polling';
import { followChanges, type EventFeed } from './event-feed.js';
import type { JobChange } from './commit-decoding.js';

let nc: NatsConnection;
let names: TestIsolation;

beforeEach(async () => {
  nc = await connectTestNats();
  names = isolation('event_feed');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: names.stream, subjects: [`${names.subjectPrefix}.events.>`] });
});

afterEach(async () => {
  await deleteStream(nc, names.stream);
  await nc.close();
});

function feed(signal: AbortSignal): EventFeed {
  const eventsSubjectPrefix = `${names.subjectPrefix}.events.`;
  return { stream: names.stream, eventsSubjectPrefix, filter: `${eventsSubjectPrefix}>`, fromPosition: 0, signal };
}

async function append(jobId: string, types: string, version: string): Promise<void> {
  const headers = natsHeaders();
  headers.set(EVENT_HEADERS.type, types);
  headers.set(EVENT_HEADERS.jobId, jobId);
  headers.set(EVENT_HEADERS.version, version);
  await jetstream(nc).publish(`${names.subjectPrefix}.events.${jobId}`, '[]', { headers });
}

const consumerCount = async (connection: NatsConnection) =>
  (await (await jetstreamManager(connection)).streams.info(names.stream)).state.consumer_count;

it('tells each change from the headers, with the version, and deletes its consumer once no longer read', async () => {
  await append('job-1', 'Created', '1');
  await append('job-1', 'Started,Claimed', '3');
  const stop = new AbortController();
  const changes: JobChange[] = [];
  for await (const change of followChanges(jetstream(nc), feed(stop.signal))) {
    changes.push(change);
    if (changes.length === 2) break;
  }
  expect(changes).toEqual([
    { jobId: 'job-1', position: 1, version: 1, types: ['Created'] },
    { jobId: 'job-1', position: 2, version: 3, types: ['Started', 'Claimed'] },
  ]);
  await until(async () => (await consumerCount(nc)) === 0);
});

it('ends at once when its signal aborts, even if its connection closes right after (a service shutting down)', async () => {
  const own = await connectTestNats();
  const stop = new AbortController();
  let seen = 0;
  const following = (async () => {
    for await (const _ of followChanges(jetstream(own), feed(stop.signal))) seen++;
  })();
  await append('job-1', 'Created', '1');
  await until(() => seen === 1);
  stop.abort();
  await own.close();
  // Its consumer's deletion may not hold it until that request's timeout (5 s).
  const ended = await Promise.race([following.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 1_000))]);
  expect(ended).toBe(true);
});
