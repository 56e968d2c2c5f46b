import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#testing/private-nats';
import { NatsServerLaunchError, startNatsServer, type NatsServerProcess } from './nats-server-process.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'nats-server-process-'));
const started: NatsServerProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

async function launch(name: string): Promise<NatsServerProcess> {
  const server = await startNatsServer({ host: '127.0.0.1', port: await freePort(), storeDir: path.join(scratch, name) });
  started.push(server);
  return server;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await (await connect({ servers: url, reconnect: false, timeout: 500 })).close();
    return true;
  } catch {
    return false;
  }
}

describe('startNatsServer', () => {
  it('starts a nats-server with JetStream on a free port, answering once it resolves', async () => {
    const server = await launch('answers');
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(isRunning(server.pid)).toBe(true);
    const nc = await connect({ servers: server.url, reconnect: false });
    try {
      const account = await (await jetstreamManager(nc)).getAccountInfo();
      expect(account.streams).toBe(0);
    } finally {
      await nc.close();
    }
  });

  it('stops it with SIGTERM and resolves once the process has exited', async () => {
    const server = await launch('stops');
    await server.stop();
    expect(isRunning(server.pid)).toBe(false);
    expect(await answers(server.url)).toBe(false);
    await server.stop(); // A second stop is harmless.
  });

  it('kills it with SIGKILL when it has not exited in time', async () => {
    const server = await launch('hangs');
    process.kill(server.pid, 'SIGSTOP'); // A stopped process does not act on SIGTERM.
    const before = performance.now();
    await server.stop(300);
    expect(performance.now() - before).toBeGreaterThanOrEqual(250);
    expect(isRunning(server.pid)).toBe(false);
  });

  it('reports a nats-server that exits at once with what it last logged, without waiting for the timeout', async () => {
    const notADirectory = path.join(scratch, 'a-file');
    writeFileSync(notADirectory, '');
    const before = performance.now();
    const launching = startNatsServer({ host: '127.0.0.1', port: await freePort(), storeDir: notADirectory, readyTimeoutMs: 20_000 });
    await expect(launching).rejects.toThrow(NatsServerLaunchError);
    await expect(launching).rejects.toThrow(
      /^nats-server .* exited with code 1 before it answered at nats:\/\/127\.0\.0\.1:\d+: .*storage directory/,
    );
    expect(performance.now() - before).toBeLessThan(5_000);
  });
});
