import { mkdirSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import type { ConnectionOptions } from '@nats-io/nats-core';
import type { LoggerService } from '@nestjs/common';
import { NatsServerLaunchError, startNatsServer, type NatsServerProcess } from './nats-server-process.js';

async function answers(connection: ConnectionOptions): Promise<boolean> {
  try {
    const nc = await connect({ ...connection, timeout: 1_000, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

function isLocal(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/**
 * Makes sure a NATS server with JetStream answers at `natsUrl`. When none does, the URL is local
 * and `nats-server` is on PATH, starts one with its data under `dataDir`, for the caller to stop;
 * otherwise says what to do.
 */
export async function ensureNatsServer(
  natsUrl: string,
  connection: ConnectionOptions,
  dataDir: string,
  logger: LoggerService,
): Promise<NatsServerProcess | null> {
  if (await answers(connection)) return null;
  const url = new URL(natsUrl.split(',')[0]!.trim());
  const advice =
    `no NATS server answers at ${natsUrl}. Start one with JetStream (nats-server -js -sd ${dataDir}/nats), ` +
    `or run "docker compose up -d nats", or point NATS_URL at yours.`;
  if (!isLocal(url)) throw new Error(advice);
  const storeDir = `${dataDir}/nats`;
  mkdirSync(storeDir, { recursive: true });
  try {
    const server = await startNatsServer({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 4222),
      storeDir,
      connection,
    });
    logger.log(`started ${server.commandLine} (pid ${server.pid})`, 'EmbeddedNats');
    return server;
  } catch (error) {
    if (error instanceof NatsServerLaunchError) throw new Error(`${advice} (${error.message})`);
    throw error;
  }
}
