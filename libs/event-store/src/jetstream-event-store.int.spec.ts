import type { NatsConnection } from '@nats-io/nats-core';
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
    cleanup: async () => {
      await store.close();
      await deleteStream(nc, names.stream);
    },
  };
});
