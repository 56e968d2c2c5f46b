import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startNatsServer, type NatsServerProcess } from '#nats-server';

/** A nats-server of one test's own, on a free loopback port, that the test may stop and restart. */
export interface PrivateNats {
  url: string;
  /** Stops the server gracefully, waits `downMs`, and starts it again on the same port and store. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether anything at all listens at a URL: refused means the port is closed. */
export function listens(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startPrivateNats(): Promise<PrivateNats> {
  const launch = { host: '127.0.0.1', port: await freePort(), storeDir: mkdtempSync(path.join(tmpdir(), 'private-nats-')) };
  let server: NatsServerProcess;
  try {
    server = await startNatsServer(launch);
  } catch (error) {
    rmSync(launch.storeDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: server.url,
    restart: async (downMs) => {
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await startNatsServer(launch);
    },
    stop: async () => {
      await server.stop();
      rmSync(launch.storeDir, { recursive: true, force: true });
    },
  };
}
