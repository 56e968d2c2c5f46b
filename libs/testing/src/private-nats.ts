import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';

/** A nats-server of one test's own, on a free loopback port, that the test may stop and restart. */
export interface PrivateNats {
  url: string;
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await (await connect({ servers: url, reconnect: false, timeout: 500 })).close();
    return true;
  } catch {
    return false;
  }
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(tmpdir(), 'private-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let server: ChildProcess;
  const start = async () => {
    server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
    for (let attempt = 0; attempt < 100 && !(await answers(url)); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  // A graceful stop: nats-server flushes what it acknowledged.
  const stopServer = () =>
    new Promise<void>((resolve) => {
      if (server.exitCode !== null) return resolve();
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    });
  await start();
  return {
    url,
    restart: async (downMs) => {
      await stopServer();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    stop: async () => {
      await stopServer();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
