import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { LoggerService } from '@nestjs/common';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, listens } from '#testing/private-nats';
import { ensureNatsServer, NatsUnavailableError, type NatsTarget } from './embedded-nats-server.js';
import { startNatsServer, type NatsServerProcess } from './nats-server-process.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'embedded-nats-server-'));
const started: NatsServerProcess[] = [];
const quiet: LoggerService = { log: () => undefined, error: () => undefined, warn: () => undefined };

afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

/** A nats-server of the test's own; with `auth`, one that takes only that user and password. */
async function launch(name: string, auth?: { user: string; password: string }): Promise<NatsServerProcess> {
  const storeDir = path.join(scratch, name);
  let configFile: string | undefined;
  if (auth) {
    configFile = path.join(scratch, `${name}.conf`);
    writeFileSync(configFile, `authorization { user: "${auth.user}", password: "${auth.password}" }\n`);
  }
  const server = await startNatsServer({
    host: '127.0.0.1',
    port: await freePort(),
    storeDir,
    configFile,
    connection: auth && { user: auth.user, pass: auth.password },
  });
  started.push(server);
  return server;
}

/** What the service would ask for: NATS_URL `url`, where `embeddedUrl` plays the default NATS_URL. */
function target(url: string, connection: NatsTarget['connection'] = {}, embeddedUrl = url): NatsTarget {
  return { natsUrl: url, connection: { servers: url, ...connection }, dataDir: path.join(scratch, 'data'), embeddedUrl };
}

/** The failure, and how long it took to come. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const before = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: performance.now() - before };
  }
  throw new Error('it did not fail');
}

describe('ensureNatsServer', () => {
  it('starts none when a server answers', async () => {
    const server = await launch('present');
    expect(await ensureNatsServer(target(server.url, {}, 'nats://127.0.0.1:1'), quiet)).toBeNull();
  });

  it('starts one at the default URL where nothing listens and no credentials are configured, its store under the data folder', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const server = await ensureNatsServer(target(url), quiet);
    started.push(server!);
    expect(server).toMatchObject({ url, commandLine: expect.stringContaining(`-sd ${path.join(scratch, 'data')}/nats`) });
    await (await connect({ servers: url, reconnect: false })).close();
  });

  it('starts none where a token is configured and nothing listens: it says so at once, and the port stays closed', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const { error, ms } = await failure(ensureNatsServer(target(url, { token: 's3cret' }), quiet));
    expect(error).toBeInstanceOf(NatsUnavailableError);
    expect(String(error)).toMatch(
      /no NATS server answers at nats:\/\/127\.0\.0\.1:\d+ \(connection refused\), and a token \(NATS_TOKEN\) is configured, so none is started here: start yours/,
    );
    expect(ms).toBeLessThan(2_000);
    expect(await listens(url)).toBe(false);
  });

  it('starts none where a user or TLS is configured and nothing listens', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    await expect(ensureNatsServer(target(url, { user: 'service', pass: 'p' }), quiet)).rejects.toThrow(
      /a user \(NATS_USER\) is configured/,
    );
    await expect(ensureNatsServer(target(url, { tls: {} }), quiet)).rejects.toThrow(/TLS \(NATS_TLS_CA, NATS_TLS_CERT\) is configured/);
    expect(await listens(url)).toBe(false);
  });

  it('starts none at a URL other than the default one: it says what to start', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    await expect(ensureNatsServer(target(url, {}, 'nats://127.0.0.1:4222'), quiet)).rejects.toThrow(
      /no NATS server answers at nats:\/\/127\.0\.0\.1:\d+ \(connection refused\): start one with JetStream .*only at the default NATS_URL \(nats:\/\/127\.0\.0\.1:4222\)/,
    );
    expect(await listens(url)).toBe(false);
  });

  it('says the credentials were refused, not that no server answers, and starts nothing on the port in use', async () => {
    const server = await launch('auth', { user: 'service', password: 'right' });
    const { error, ms } = await failure(ensureNatsServer(target(server.url, { user: 'service', pass: 'wrong' }), quiet));
    expect(String(error)).toMatch(
      /^NatsUnavailableError: NATS at nats:\/\/127\.0\.0\.1:\d+ refused the credentials \(Authorization Violation\): check NATS_USER and NATS_PASSWORD/,
    );
    expect(ms).toBeLessThan(2_000);
    const other = await ensureNatsServer(target(server.url, { user: 'service', pass: 'right' }), quiet);
    expect(other).toBeNull();
  });

  it('says TLS failed when the server has none', async () => {
    const server = await launch('plain');
    await expect(ensureNatsServer(target(server.url, { tls: {} }), quiet)).rejects.toThrow(
      /^TLS with NATS at nats:\/\/127\.0\.0\.1:\d+ failed \(server does not support 'tls'\): check NATS_TLS_CA/,
    );
  });

  it('starts none where something that is not NATS listens at the default URL: it says nothing answered in time', async () => {
    const silent = createServer(() => undefined);
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const url = `nats://127.0.0.1:${port}`;
      await expect(ensureNatsServer(target(url, { timeout: 200 }), quiet)).rejects.toThrow(
        /^nothing answered as a NATS server at nats:\/\/127\.0\.0\.1:\d+ within 200 ms: check NATS_URL/,
      );
    } finally {
      silent.close();
    }
  });
});
