import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import type { ConnectionOptions } from '@nats-io/nats-core';
import type { LoggerService } from '@nestjs/common';

/** A nats-server this process started, to stop with it. */
export interface EmbeddedNatsServer {
  stop(): Promise<void>;
}

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
 * and `nats-server` is on PATH, starts one with its data under `dataDir`; otherwise says what to do.
 */
export async function ensureNatsServer(
  natsUrl: string,
  connection: ConnectionOptions,
  dataDir: string,
  logger: LoggerService,
): Promise<EmbeddedNatsServer | null> {
  if (await answers(connection)) return null;
  const url = new URL(natsUrl.split(',')[0]!.trim());
  const advice =
    `no NATS server answers at ${natsUrl}. Start one with JetStream (nats-server -js -sd ${dataDir}/nats), ` +
    `or run "docker compose up -d nats", or point NATS_URL at yours.`;
  if (!isLocal(url)) throw new Error(advice);
  const storeDir = `${dataDir}/nats`;
  mkdirSync(storeDir, { recursive: true });
  const args = ['-a', url.hostname.replace(/^\[|\]$/g, ''), '-p', url.port || '4222', '-js', '-sd', storeDir];
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolve, reject) => {
      const started = spawn('nats-server', args, { stdio: 'ignore' });
      started.once('error', reject);
      started.once('spawn', () => resolve(started));
    });
  } catch {
    throw new Error(`${advice} (nats-server is not on PATH, so none was started here)`);
  }
  logger.log(`started nats-server ${args.join(' ')} (pid ${child.pid})`, 'EmbeddedNats');
  for (let attempt = 0; attempt < 50; attempt++) {
    if (child.exitCode !== null) break;
    if (await answers(connection)) {
      return {
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${advice} (the nats-server started here did not answer within 10 s)`);
}
