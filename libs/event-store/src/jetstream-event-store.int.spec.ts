import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { EVENT_HEADERS } from '#contracts';
import { afterAll, beforeAll } from 'vitest';
import { connectTestNats, deleteStream, isolation } from '#testing/nats';
import { describeEventStoreContract } from '#testing/event-store.contract';
import { JetStreamEventStore } from './jetstream-event-store.js';

let nc: NatsConnection;
beforeAll(async () => {
  nc = await connectTestNats();
});
afterAll(async () => {
  await nc.close();
});

describeEventStoreContract('JetStream (real NATS server)', async () => {
  const names = isolation('store');
  const store = await JetStreamEventStore.open(nc, names);
  return {
    store,
    publishRaw: async (jobId, body, version) => {
      const raw = headers();
      if (version !== null) raw.set(EVENT_HEADERS.version, String(version));
      return (await jetstream(nc).publish(`${names.subjectPrefix}.events.${jobId}`, body, { headers: raw })).seq;
    },
    cleanup: async () => {
      await store.close();
      await deleteStream(nc, names.stream);
    },
  };
});
