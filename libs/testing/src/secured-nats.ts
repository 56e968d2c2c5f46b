import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { INestMicroservice } from '@nestjs/common';
import { loadServiceConfig } from '#config';
import { startNatsServer } from '#nats-server';
import { startJobsMicroservice } from '#service-bootstrap';
import { freePort } from './private-nats.js';
import { serviceModules } from './service.js';

/** The users deploy/nats/jobs.conf names. */
export const NATS_USERS = ['service', 'executor-1', 'alice', 'reader', 'admin', 'gateway'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** A nats-server of one test's own, on the repository's deploy/nats/jobs.conf as it ships, with passwords of its own. */
export interface SecuredNats {
  url: string;
  passwords: Record<NatsUser, string>;
  /** A plain NATS client logged in as `user`, without reconnecting; stop() closes it. */
  connectAs(user: NatsUser): Promise<NatsConnection>;
  /** The job service (commands and queries) logged in as the `service` user, trusting `.as.<actor>` subjects; stop() closes it. */
  startService(): Promise<INestMicroservice>;
  /** Closes the services, then the clients, then stops the server and removes its files. */
  stop(): Promise<void>;
}

export async function startSecuredNats(label: string): Promise<SecuredNats> {
  const scratch = mkdtempSync(path.join(tmpdir(), `${label}-`));
  // Passwords start with a letter: nats-server reads a variable's value as it would read the file.
  const passwords = Object.fromEntries(NATS_USERS.map((user) => [user, `p${randomBytes(12).toString('hex')}`])) as Record<NatsUser, string>;
  const server = await startNatsServer({
    host: '127.0.0.1',
    port: await freePort(),
    storeDir: path.join(scratch, 'nats'),
    configFile: path.resolve('deploy/nats/jobs.conf'),
    env: Object.fromEntries(NATS_USERS.map((user) => [`JOBS_${user.toUpperCase().replace('-', '_')}_PASSWORD`, passwords[user]])),
    connection: { user: 'reader', pass: passwords.reader },
  }).catch((error: unknown) => {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  });
  const services: INestMicroservice[] = [];
  const clients: NatsConnection[] = [];
  return {
    url: server.url,
    passwords,
    connectAs: async (user) => {
      const nc = await connect({ servers: server.url, user, pass: passwords[user], reconnect: false });
      clients.push(nc);
      return nc;
    },
    startService: async () => {
      const config = loadServiceConfig({
        NATS_URL: server.url,
        NATS_USER: 'service',
        NATS_PASSWORD: passwords.service,
        DATA_DIR: mkdtempSync(path.join(scratch, 'service-')),
        JOBS_TRUST_ACTOR_SUBJECTS: 'true',
      });
      const service = await startJobsMicroservice(config, serviceModules(['commands', 'queries']), false);
      services.push(service);
      return service;
    },
    stop: async () => {
      for (const service of services.splice(0)) await service.close();
      for (const nc of clients.splice(0)) await nc.close();
      await server.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
