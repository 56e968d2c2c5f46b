import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

export const TEST_NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A name no other test run uses: every test gets its own stream and subject prefix. */
export function uniqueName(label: string): string {
  return `${label}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestIsolation {
  stream: string;
  subjectPrefix: string;
}

export function isolation(label: string): TestIsolation {
  const name = uniqueName(label);
  return { stream: `T_${name}`.toUpperCase(), subjectPrefix: `t_${name}`.toLowerCase() };
}

/** `url` may name several servers, comma-separated, as NATS_URL does. */
export function connectTestNats(url = TEST_NATS_URL): Promise<NatsConnection> {
  // Keeps trying through a server restart, as a production client would.
  return connect({ servers: url.split(','), name: 'job-tracking-tests', maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

/** Deletes a test's stream; a missing one is fine. */
export async function deleteStream(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => undefined);
}
