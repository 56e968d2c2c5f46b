import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { EVENT_HEADERS, type JobEvent } from '#contracts';
import { EventStoreModule } from '#event-store';
import { loadServiceConfig, type ServiceConfig } from '#config';
import { startJobsMicroservice } from '#service-bootstrap';
import { CommandServiceModule } from '#command-service';
import { QueryServiceModule } from '#query-service';
import { connectTestNats, deleteStream, isolation, TEST_NATS_URL } from './nats.js';

export type Side = 'commands' | 'queries';

export interface TestService {
  config: ServiceConfig;
  /** A plain NATS client, as any integrator would use. */
  nc: NatsConnection;
  instances: INestMicroservice[];
  /** Starts one more instance in the same queue groups, with its own data folder (read models). */
  startInstance(): Promise<INestMicroservice>;
  /** Plain NATS request on `<prefix>.cmd.<name>` with a JSON body; the parsed reply. */
  command(name: string, body: unknown): Promise<any>;
  /** Plain NATS request on `<prefix>.query.<name>`. */
  query(name: string, body: unknown): Promise<any>;
  /** Raw request bytes on any subject. */
  request(subject: string, data: string | Uint8Array): Promise<any>;
  /** Stream sequence of the last message in the test's stream. */
  lastSequence(): Promise<number>;
  /** A job's messages in the stream: the event types their headers name, and the events of their bodies. */
  storedJob(jobId: string): Promise<{ headerTypes: string[]; events: JobEvent[] }>;
  close(): Promise<void>;
}

/** The modules of an instance that serves `sides`, on its own event store, for `startJobsMicroservice`. */
export function serviceModules(sides: Side[]): (instanceConfig: ServiceConfig, connection: NatsConnection) => DynamicModule[] {
  return (instanceConfig, connection) => {
    const modules: DynamicModule[] = [
      EventStoreModule.forRoot({
        connection,
        stream: instanceConfig.stream,
        subjectPrefix: instanceConfig.subjectPrefix,
        replicas: instanceConfig.replicas,
      }),
    ];
    if (sides.includes('commands')) modules.push(CommandServiceModule.forRoot());
    if (sides.includes('queries')) modules.push(QueryServiceModule.forRoot(connection));
    return modules;
  };
}

/** The service on the real NATS server, with its own stream, subject prefix and data folders. */
export async function startTestService(
  label: string,
  options: { instances?: number; sides?: Side[]; env?: Record<string, string>; natsUrl?: string } = {},
): Promise<TestService> {
  const names = isolation(label);
  const sides = options.sides ?? ['commands'];
  const dataDirs: string[] = [];
  const configFor = (dataDir: string) =>
    loadServiceConfig({
      NATS_URL: options.natsUrl ?? TEST_NATS_URL,
      JOBS_STREAM: names.stream,
      JOBS_SUBJECT_PREFIX: names.subjectPrefix,
      DATA_DIR: dataDir,
      ...options.env,
    });
  const config = configFor(tmpdir());
  const nc = await connectTestNats(options.natsUrl);
  const instances: INestMicroservice[] = [];
  const startInstance = async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), `${label}-`));
    dataDirs.push(dataDir);
    const app = await startJobsMicroservice(configFor(dataDir), serviceModules(sides), false);
    instances.push(app);
    return app;
  };
  for (let i = 0; i < (options.instances ?? 1); i++) await startInstance();
  const request = async (subject: string, data: string | Uint8Array) => {
    const reply = await nc.request(subject, data, { timeout: 10_000 });
    return reply.json();
  };
  return {
    config,
    nc,
    instances,
    startInstance,
    request,
    command: (name, body) => request(`${config.subjectPrefix}.cmd.${name}`, JSON.stringify(body)),
    query: (name, body) => request(`${config.subjectPrefix}.query.${name}`, JSON.stringify(body)),
    lastSequence: async () => {
      const jsm = await jetstreamManager(nc);
      return (await jsm.streams.info(config.stream)).state.last_seq;
    },
    storedJob: async (jobId) => {
      const consumer = await jetstream(nc).consumers.get(config.stream, { filter_subjects: `${config.subjectPrefix}.events.${jobId}` });
      const stored = { headerTypes: [] as string[], events: [] as JobEvent[] };
      for await (const message of await consumer.fetch({ max_messages: 1_000, expires: 1_000 })) {
        stored.headerTypes.push(...message.headers!.get(EVENT_HEADERS.type).split(','));
        stored.events.push(...message.json<JobEvent[]>());
        if (message.info.pending === 0) break;
      }
      return stored;
    },
    close: async () => {
      await Promise.all(instances.splice(0).map((app) => app.close()));
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(`OBJ_${config.stream}_exports`).catch(() => undefined);
      await deleteStream(nc, config.stream);
      await nc.close();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
