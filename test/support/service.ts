import type { INestMicroservice } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { EventStoreModule } from '#event-store';
import { loadServiceConfig, startJobsMicroservice, type ServiceConfig } from '#nats-transport';
import { CommandServiceModule } from '../../apps/command-service/src/command-service.module.js';
import { connectTestNats, deleteStream, isolation, TEST_NATS_URL } from './nats.js';

export interface TestService {
  config: ServiceConfig;
  /** A plain NATS client, as any integrator would use. */
  nc: NatsConnection;
  instances: INestMicroservice[];
  /** Starts one more instance of the service, in the same queue group. */
  startInstance(): Promise<INestMicroservice>;
  /** Plain NATS request on `<prefix>.cmd.<name>` with a JSON body; the parsed reply. */
  command(name: string, body: unknown): Promise<any>;
  /** Raw request bytes on any subject. */
  request(subject: string, data: string | Uint8Array): Promise<any>;
  /** Stream sequence of the last message in the test's stream. */
  lastSequence(): Promise<number>;
  close(): Promise<void>;
}

/** The command service on the real NATS server, with its own stream and subject prefix. */
export async function startTestService(label: string, options: { instances?: number; env?: Record<string, string> } = {}): Promise<TestService> {
  const names = isolation(label);
  const config = loadServiceConfig({
    NATS_URL: TEST_NATS_URL,
    JOBS_STREAM: names.stream,
    JOBS_SUBJECT_PREFIX: names.subjectPrefix,
    ...options.env,
  });
  const nc = await connectTestNats();
  const instances: INestMicroservice[] = [];
  const startInstance = async () => {
    const app = await startJobsMicroservice(
      config,
      (_, connection) => [
        EventStoreModule.forRoot({ connection, stream: config.stream, subjectPrefix: config.subjectPrefix }),
        CommandServiceModule.forRoot(),
      ],
      false,
    );
    instances.push(app);
    return app;
  };
  for (let i = 0; i < (options.instances ?? 1); i++) await startInstance();
  const request = async (subject: string, data: string | Uint8Array) => {
    const reply = await nc.request(subject, data, { timeout: 5_000 });
    return reply.json();
  };
  return {
    config,
    nc,
    instances,
    startInstance,
    request,
    command: (name, body) => request(`${config.subjectPrefix}.cmd.${name}`, JSON.stringify(body)),
    lastSequence: async () => {
      const jsm = await jetstreamManager(nc);
      return (await jsm.streams.info(config.stream)).state.last_seq;
    },
    close: async () => {
      await Promise.all(instances.splice(0).map((app) => app.close()));
      await deleteStream(nc, config.stream);
      await nc.close();
    },
  };
}
