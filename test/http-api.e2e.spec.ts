import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsoleLogger } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '#contracts';
import { startHttpApi, type HttpApi } from '#http-api';
import { UsersFile } from '#operator-access';
import { startTestService, type TestService } from '#testing/service';
import { until } from '#testing/polling';

/** The HTTP API over real HTTP, against the service on the real NATS server. */
let service: TestService;
let api: HttpApi;
let folder: string;
let usersFile: string;
const printed: string[] = [];
const tokens = { admin: '', reader: '', importer: '', exporter: '' };
const quiet = () => new ConsoleLogger('HttpApi', { logLevels: ['error'] });
/** Everything the API under test logs, at every level. */
const logged: string[] = [];
const collect = (...parts: unknown[]) => {
  logged.push(parts.map((part) => (part instanceof Error ? `${part.message} ${part.stack}` : String(part))).join(' '));
};
const collectingLogger = { log: collect, error: collect, warn: collect, debug: collect, verbose: collect, fatal: collect };

beforeAll(async () => {
  service = await startTestService('http_api', { sides: ['commands', 'queries'] });
  folder = mkdtempSync(path.join(tmpdir(), 'http-api-'));
  usersFile = path.join(folder, 'users.json');
  api = await startHttpApi({
    config: service.config,
    http: { host: '127.0.0.1', port: 0, usersFile, consoleDir: path.join(folder, 'console') },
    logger: collectingLogger,
    print: (line) => printed.push(line),
  });
  tokens.admin = api.firstAdminToken!;
  tokens.reader = await UsersFile.addUser(usersFile, 'reader', ['read']);
  tokens.importer = await UsersFile.addUser(usersFile, 'importer', ['import']);
  tokens.exporter = await UsersFile.addUser(usersFile, 'exporter', ['export']);
  // The running API reads the users file again within a second.
  await until(async () => (await call('GET', '/api/v1/session', { token: tokens.exporter })).status === 200);
});

afterAll(async () => {
  await api?.stop();
  await service?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  method: string,
  route: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; on?: HttpApi } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(route, (options.on ?? api).url), {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('application/json') === true;
  return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text };
}

const admin = (method: string, route: string, body?: unknown, headers?: Record<string, string>) =>
  call(method, route, { token: tokens.admin, body, headers });

async function createJob(kind: 'import' | 'export' = 'import', extra: Record<string, unknown> = {}): Promise<string> {
  const created = await admin('POST', '/api/v1/jobs', { label: `${kind} job`, kind, ...extra });
  expect(created.status).toBe(201);
  return created.body.jobId;
}

/** Every request NATS sees on the test's command and query subjects while `run` runs. */
async function natsTraffic(run: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const subscription: Subscription = service.nc.subscribe(`${service.config.subjectPrefix}.>`, {
    callback: (_, message) => {
      seen.push(message.subject);
    },
  });
  await service.nc.flush();
  try {
    await run();
    await service.nc.flush();
  } finally {
    subscription.unsubscribe();
  }
  return seen.filter((subject) => !subject.includes('.events.'));
}

describe('first start', () => {
  it('creates the users file with an admin, prints the console address and, once, the address with its token', async () => {
    expect(printed).toEqual([`Console: ${api.url}`, `Console: ${api.url}?token=${tokens.admin}`]);
    expect(statSync(usersFile).mode & 0o777).toBe(0o600);
    const again: string[] = [];
    const second = await startHttpApi({
      config: service.config,
      http: { host: '127.0.0.1', port: 0, usersFile, consoleDir: path.join(folder, 'console') },
      logger: quiet(),
      print: (line) => again.push(line),
    });
    try {
      expect(second.firstAdminToken).toBeNull();
      expect(again).toEqual([`Console: ${second.url}`]);
    } finally {
      await second.stop();
    }
  });
});

describe('routes', () => {
  it('create, get with its ETag, update, start, log, the executor commands, and every read', async () => {
    const created = await admin('POST', '/api/v1/jobs', {
      label: 'Nightly contacts import',
      kind: 'import',
      rejectPolicy: { maxRejects: null },
    });
    expect(created.status).toBe(201);
    const { jobId } = created.body;
    expect(created.headers.get('location')).toBe(`/api/v1/jobs/${jobId}`);
    expect(created.body).toMatchObject({ ok: true, version: 1, status: 'editing' });

    const got = await admin('GET', `/api/v1/jobs/${jobId}?minPosition=${created.body.position}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"1"');
    expect(got.body.job).toMatchObject({ jobId, label: 'Nightly contacts import', createdBy: 'admin' });

    expect((await admin('PATCH', `/api/v1/jobs/${jobId}`, { label: 'Nightly import' })).body).toMatchObject({ ok: true, version: 2 });
    expect((await admin('POST', `/api/v1/jobs/${jobId}/start`)).body).toMatchObject({ ok: true, status: 'running' });
    expect((await admin('POST', `/api/v1/jobs/${jobId}/log`, { level: 'warning', message: 'slow source' })).status).toBe(200);
    expect((await admin('POST', `/api/v1/jobs/${jobId}/progress`, { processed: 5, total: 10 })).status).toBe(200);
    const records = [
      { line: 3, reason: 'bad, "quoted" email', record: { email: 'x', note: 'two\nlines' } },
      { line: 7, reason: 'empty', record: 'a,b' },
    ];
    expect((await admin('POST', `/api/v1/jobs/${jobId}/reject`, { records })).status).toBe(200);
    const finished = await admin('POST', `/api/v1/jobs/${jobId}/finish`, { processed: 10, total: 10 });
    expect(finished.body).toMatchObject({ ok: true, status: 'finished' });
    const at = finished.body.position;

    const list = await admin('GET', `/api/v1/jobs?status=finished&status=running&kind=import&minPosition=${at}&limit=10`);
    expect(list.body).toMatchObject({ ok: true, total: 1, items: [{ jobId, status: 'finished', rejected: 2 }] });
    const counts = await admin('GET', `/api/v1/jobs/status-counts?kind=import&minPosition=${at}`);
    expect(counts.body.counts).toMatchObject({ finished: 1, running: 0 });
    expect(Object.keys(counts.body.counts)).toHaveLength(9);

    const logs = await admin('GET', `/api/v1/jobs/${jobId}/logs?level=warning&minPosition=${at}`);
    expect(logs.body.items.map((entry: any) => entry.message)).toContain('slow source');
    expect(logs.body.items.every((entry: any) => entry.level === 'warning')).toBe(true);
    // The log read back from its end: the newest entries, then those before them.
    const all = (await admin('GET', `/api/v1/jobs/${jobId}/logs`)).body.items;
    const newest = await admin('GET', `/api/v1/jobs/${jobId}/logs?tail=true&limit=2`);
    expect(newest.body).toEqual({ ok: true, items: all.slice(-2), nextCursor: null, olderCursor: all.at(-2).id });
    const older = await admin('GET', `/api/v1/jobs/${jobId}/logs?before=${newest.body.olderCursor}&limit=1`);
    expect(older.body).toEqual({ ok: true, items: all.slice(-3, -2), nextCursor: all.at(-3).id, olderCursor: all.at(-3).id });
    expect((await admin('GET', `/api/v1/jobs/${jobId}/logs?after=1&before=5`)).body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
    const rejects = await admin('GET', `/api/v1/jobs/${jobId}/rejects?limit=1&minPosition=${at}`);
    expect(rejects.body).toMatchObject({ ok: true, total: 2, items: [{ line: 3 }] });
    const next = await admin('GET', `/api/v1/jobs/${jobId}/rejects?limit=1&cursor=${rejects.body.nextCursor}`);
    expect(next.body.items).toMatchObject([{ line: 7, record: 'a,b' }]);
    const history = await admin('GET', `/api/v1/jobs/${jobId}/history?atVersion=2`);
    expect(history.body.events.map((event: any) => event.type)).toEqual(['Created', 'DefinitionUpdated']);
    expect(history.body.state).toMatchObject({ label: 'Nightly import', status: 'editing' });

    const csv = await admin('GET', `/api/v1/jobs/${jobId}/rejects.csv`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="${jobId}-rejects.csv"`);
    expect(parse(csv.body, { columns: true })).toEqual(
      rejects.body.items.concat(next.body.items).map((entry: any) => ({
        line: String(entry.line),
        reason: entry.reason,
        record: typeof entry.record === 'string' ? entry.record : JSON.stringify(entry.record),
        at: entry.at,
      })),
    );
  });

  it('describes every route and command in openapi.json, from the contract schemas', async () => {
    const document = (await call('GET', '/api/v1/openapi.json')).body;
    expect(document.openapi).toBe('3.1.0');
    for (const name of COMMAND_NAMES.filter((name) => name !== 'create' && name !== 'update')) {
      expect(document.paths[`/api/v1/jobs/{jobId}/${name}`].post.requestBody.content['application/json'].schema).toBeDefined();
    }
    for (const route of [
      '/api/v1/jobs',
      '/api/v1/jobs/{jobId}',
      '/api/v1/jobs/{jobId}/rejects.csv',
      '/api/v1/events',
      '/api/v1/session',
      '/readyz',
    ]) {
      expect(document.paths[route]).toBeDefined();
    }
    const create = document.paths['/api/v1/jobs'].post;
    expect(create.requestBody.content['application/json'].schema.properties.label.maxLength).toBe(500);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409', '413', '503', '504']));
    const list = document.paths['/api/v1/jobs'].get.parameters.map((parameter: any) => parameter.name);
    expect(list).toEqual(
      expect.arrayContaining(['status', 'kind', 'createdBy', 'text', 'sort', 'order', 'limit', 'cursor', 'minPosition']),
    );
    expect(
      document.paths['/api/v1/jobs/{jobId}'].get.responses['200'].content['application/json'].schema.properties.job.properties.statusLabel,
    ).toBeDefined();
  });

  it('answers healthz and readyz without a login', async () => {
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: { ok: true } });
    expect(await call('GET', '/readyz')).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('serves the console, index.html for its own routes, and says to build it when it is missing', async () => {
    const missing = await call('GET', '/');
    expect(missing.status).toBe(503);
    expect(missing.body).toContain('npm run build');
    const consoleDir = path.join(folder, 'console');
    mkdirSync(path.join(consoleDir, 'assets'), { recursive: true });
    writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>Jobs</title>');
    writeFileSync(path.join(consoleDir, 'assets', 'app-1234.js'), 'console.log(1)');
    try {
      expect(await call('GET', '/')).toMatchObject({ status: 200, body: '<!doctype html><title>Jobs</title>' });
      expect(await call('GET', '/jobs/nightly-1?tab=log')).toMatchObject({ status: 200, body: '<!doctype html><title>Jobs</title>' });
      const asset = await call('GET', '/assets/app-1234.js');
      expect(asset).toMatchObject({ status: 200, body: 'console.log(1)' });
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await call('GET', '/../users.json')).body).not.toContain('sessionSecret');
      expect(await call('GET', '/api/v1/nothing-here')).toMatchObject({ status: 404, body: { ok: false, error: { code: 'NOT_FOUND' } } });
    } finally {
      rmSync(consoleDir, { recursive: true, force: true });
    }
  });
});

describe('error codes as HTTP statuses, one request each', () => {
  let editing: string;

  beforeAll(async () => {
    editing = await createJob();
  });

  it.each([
    ['a bad parameter', 400, 'VALIDATION_FAILED', () => admin('GET', '/api/v1/jobs?limit=many')],
    ['a body that is no JSON', 400, 'VALIDATION_FAILED', () => admin('POST', '/api/v1/jobs', '{"label":')],
    ['no credentials', 401, 'UNAUTHENTICATED', () => call('GET', '/api/v1/jobs')],
    [
      'a reader creating',
      403,
      'FORBIDDEN',
      () => call('POST', '/api/v1/jobs', { token: tokens.reader, body: { label: 'x', kind: 'import' } }),
    ],
    ['an unknown job', 404, 'JOB_NOT_FOUND', () => admin('GET', '/api/v1/jobs/no-such-job')],
    ['an unknown command', 404, 'UNKNOWN_COMMAND', () => admin('POST', `/api/v1/jobs/${editing}/explode`)],
    ['a pause while editing', 409, 'INVALID_TRANSITION', () => admin('POST', `/api/v1/jobs/${editing}/pause`)],
    [
      'a create of an existing id',
      409,
      'JOB_EXISTS',
      () => admin('POST', '/api/v1/jobs', { jobId: editing, label: 'again', kind: 'import' }),
    ],
    [
      'a body over the payload limit',
      413,
      'PAYLOAD_TOO_LARGE',
      () => admin('PATCH', `/api/v1/jobs/${editing}`, { definition: { blob: 'x'.repeat(300 * 1024) } }),
    ],
    [
      'a position the read models do not reach in time',
      504,
      'TIMEOUT',
      () => admin('GET', '/api/v1/jobs?minPosition=999999999&maxWaitMs=0'),
    ],
  ])('%s: %i %s', async (_, status, code, send) => {
    const reply = await send();
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
  });

  it("keeps the NATS error's extra fields: INVALID_TRANSITION names the status", async () => {
    expect((await admin('POST', `/api/v1/jobs/${editing}/pause`)).body.error).toMatchObject({ status: 'editing', command: 'pause' });
  });

  it('503 UNAVAILABLE when no service answers', async () => {
    const lonely = await startHttpApi({
      config: { ...service.config, subjectPrefix: `${service.config.subjectPrefix}_nobody` },
      http: { host: '127.0.0.1', port: 0, usersFile, consoleDir: folder },
      logger: quiet(),
      print: () => undefined,
    });
    try {
      const reply = await call('GET', '/api/v1/jobs', { token: tokens.admin, on: lonely });
      expect(reply).toMatchObject({ status: 503, body: { ok: false, error: { code: 'UNAVAILABLE' } } });
      expect((await call('GET', '/readyz', { on: lonely })).status).toBe(503);
    } finally {
      await lonely.stop();
    }
  });
});

describe('command headers', () => {
  it('Idempotency-Key: the same key twice appends one event and answers the first reply; with another command, 409', async () => {
    const jobId = await createJob();
    const before = await service.lastSequence();
    const first = await admin('POST', `/api/v1/jobs/${jobId}/log`, { level: 'info', message: 'once' }, { 'Idempotency-Key': `k-${jobId}` });
    const again = await admin('POST', `/api/v1/jobs/${jobId}/log`, { level: 'info', message: 'once' }, { 'Idempotency-Key': `k-${jobId}` });
    expect(first.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await service.lastSequence()).toBe(before + 1);
    const reused = await admin(
      'POST',
      `/api/v1/jobs/${jobId}/log`,
      { level: 'info', message: 'other' },
      { 'Idempotency-Key': `k-${jobId}` },
    );
    expect(reused).toMatchObject({ status: 409, body: { error: { code: 'COMMAND_ID_REUSED' } } });
  });

  it('If-Match: a stale version is 409 CONCURRENCY_CONFLICT and appends nothing; the current one passes', async () => {
    const jobId = await createJob();
    const etag = (await admin('GET', `/api/v1/jobs/${jobId}`)).headers.get('etag')!;
    await admin('PATCH', `/api/v1/jobs/${jobId}`, { label: 'changed by someone else' });
    const before = await service.lastSequence();
    const stale = await admin('POST', `/api/v1/jobs/${jobId}/start`, undefined, { 'If-Match': etag });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'CONCURRENCY_CONFLICT', expectedVersion: 1, actualVersion: 2 } } });
    expect(await service.lastSequence()).toBe(before);
    expect(await admin('POST', `/api/v1/jobs/${jobId}/start`, undefined, { 'If-Match': '2' })).toMatchObject({ status: 200 });
    expect(await admin('POST', `/api/v1/jobs/${jobId}/pause`, undefined, { 'If-Match': 'W/"3"' })).toMatchObject({ status: 400 });
  });

  it('minPosition: a read right after a command sees it', async () => {
    const jobId = await createJob();
    for (const command of ['start', 'pause']) {
      const sent = await admin('POST', `/api/v1/jobs/${jobId}/${command}`);
      const read = await admin('GET', `/api/v1/jobs/${jobId}?minPosition=${sent.body.position}`);
      expect(read.body.job.status).toBe(sent.body.status);
      expect(read.body.job.version).toBe(sent.body.version);
    }
  });
});

describe('authorization', () => {
  let importJob: string;
  let exportJob: string;

  beforeAll(async () => {
    importJob = await createJob('import');
    exportJob = await createJob('export');
  });

  /** Sends the request and checks its status, and that a refusal appended nothing and sent `allowedTraffic` at most. */
  async function expectStatus(status: number, send: () => Promise<Reply>, allowedTraffic: 'none' | 'queries' = 'none') {
    const before = await service.lastSequence();
    let reply: Reply | undefined;
    const traffic = await natsTraffic(async () => {
      reply = await send();
    });
    expect(reply!.status).toBe(status);
    if (status >= 400) {
      expect(reply!.body.ok).toBe(false);
      expect(await service.lastSequence()).toBe(before);
      const commands = traffic.filter((subject) => subject.includes('.cmd.'));
      expect(commands).toEqual([]);
      if (allowedTraffic === 'none') expect(traffic).toEqual([]);
    }
  }

  it('no token, a wrong token, a wrong scheme: 401, and nothing reaches NATS', async () => {
    await expectStatus(401, () => call('POST', `/api/v1/jobs/${importJob}/start`));
    await expectStatus(401, () => call('POST', `/api/v1/jobs/${importJob}/start`, { token: 'jt_not-a-token' }));
    await expectStatus(401, () => call('GET', '/api/v1/jobs', { headers: { authorization: `Basic ${tokens.admin}` } }));
    await expectStatus(401, () => call('GET', '/api/v1/jobs', { headers: { cookie: 'jobs_session=v1.forged.session' } }));
  });

  it('read only: reads, and no command at all, nothing sent', async () => {
    await expectStatus(200, () => call('GET', `/api/v1/jobs/${importJob}`, { token: tokens.reader }));
    await expectStatus(403, () => call('POST', '/api/v1/jobs', { token: tokens.reader, body: { label: 'x', kind: 'import' } }));
    await expectStatus(403, () => call('POST', `/api/v1/jobs/${importJob}/start`, { token: tokens.reader }));
    await expectStatus(403, () => call('PATCH', `/api/v1/jobs/${importJob}`, { token: tokens.reader, body: { label: 'y' } }));
  });

  it('import only: import jobs, never an export job or an executor command', async () => {
    await expectStatus(403, () => call('POST', '/api/v1/jobs', { token: tokens.importer, body: { label: 'x', kind: 'export' } }));
    // The job's kind is read (a query), the command never sent.
    await expectStatus(403, () => call('POST', `/api/v1/jobs/${exportJob}/start`, { token: tokens.importer }), 'queries');
    await expectStatus(403, () => call('PATCH', `/api/v1/jobs/${exportJob}`, { token: tokens.importer, body: { label: 'y' } }), 'queries');
    await expectStatus(403, () => call('POST', `/api/v1/jobs/${importJob}/progress`, { token: tokens.importer, body: { processed: 1 } }));
    await expectStatus(200, () => call('POST', `/api/v1/jobs/${importJob}/start`, { token: tokens.importer }));
    await expectStatus(201, () => call('POST', '/api/v1/jobs', { token: tokens.importer, body: { label: 'x', kind: 'import' } }));
    await expectStatus(200, () => call('GET', '/api/v1/jobs', { token: tokens.importer }));
  });

  it('a body naming another actor: 403; the actor is the logged-in user', async () => {
    await expectStatus(403, () => call('POST', `/api/v1/jobs/${exportJob}/start`, { token: tokens.exporter, body: { actor: 'admin' } }));
    const started = await call('POST', `/api/v1/jobs/${exportJob}/start`, { token: tokens.exporter, body: { actor: 'exporter' } });
    expect(started.status).toBe(200);
    const history = await admin('GET', `/api/v1/jobs/${exportJob}/history`);
    expect(history.body.events.at(-1)).toMatchObject({ type: 'Started', actor: 'exporter' });
  });

  it('admin: everything, executor commands included', async () => {
    const jobId = await createJob('export');
    await expectStatus(200, () => admin('POST', `/api/v1/jobs/${jobId}/start`));
    await expectStatus(200, () => admin('POST', `/api/v1/jobs/${jobId}/fail`, { error: { message: 'disk full' } }));
  });
});

describe('session', () => {
  it('logs in with a token into an HttpOnly, SameSite=Strict cookie, reads with it, and logs out', async () => {
    expect(await call('POST', '/api/v1/session', { body: { token: 'jt_wrong' } })).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED' } },
    });
    const login = await call('POST', '/api/v1/session', { body: { token: tokens.reader } });
    expect(login).toMatchObject({ status: 200, body: { ok: true, user: { name: 'reader', rights: ['read'] } } });
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^jobs_session=[^;]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure');
    const cookie = setCookie.split(';')[0]!;
    expect(await call('GET', '/api/v1/session', { headers: { cookie } })).toMatchObject({
      status: 200,
      body: { user: { name: 'reader' } },
    });
    expect((await call('GET', '/api/v1/jobs', { headers: { cookie } })).status).toBe(200);
    expect((await call('POST', '/api/v1/jobs', { headers: { cookie }, body: { label: 'x', kind: 'import' } })).status).toBe(403);
    const logout = await call('DELETE', '/api/v1/session', { headers: { cookie } });
    expect(logout).toMatchObject({ status: 200, body: { ok: true } });
    expect(logout.headers.get('set-cookie')).toMatch(/^jobs_session=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/);
    expect((await call('GET', '/api/v1/session')).status).toBe(401);
  });
});

describe('rejects.csv', () => {
  it('streams 100,000 rejects, page by page, equal to the rejects', async () => {
    const jobId = await createJob('import', { rejectPolicy: { maxRejects: null } });
    await admin('POST', `/api/v1/jobs/${jobId}/start`);
    // As an executor would, over NATS: 100 reject commands of 1,000 records.
    let position = 0;
    for (let batch = 0; batch < 100; batch++) {
      const records = Array.from({ length: 1_000 }, (_, i) => ({
        line: batch * 1_000 + i + 1,
        reason: i % 7 === 0 ? 'bad "email", twice' : 'missing name',
        record: { email: `user${batch * 1_000 + i}@example.com`, name: i % 5 === 0 ? 'Doe, Jane' : '' },
      }));
      const reply = await service.command('reject', { jobId, records });
      expect(reply.ok).toBe(true);
      position = reply.position;
    }
    const response = await fetch(new URL(`/api/v1/jobs/${jobId}/rejects.csv?minPosition=${position}`, api.url), {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    expect(response.status).toBe(200);
    let chunks = 0;
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      chunks++;
      text += decoder.decode(chunk, { stream: true });
    }
    // Sent as it was read, not built whole first.
    expect(chunks).toBeGreaterThan(10);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(100_000);

    const expected: Record<string, string>[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await service.query('rejects', { jobId, limit: 1_000, ...(cursor ? { cursor } : {}) });
      for (const item of page.items)
        expected.push({ line: String(item.line), reason: item.reason, record: JSON.stringify(item.record), at: item.at });
      cursor = page.nextCursor;
    } while (cursor);
    expect(rows).toEqual(expected);
  }, 120_000);
});

describe('logs', () => {
  it('hold no token, whatever the requests above sent', () => {
    expect(logged.length).toBeGreaterThan(0);
    for (const token of Object.values(tokens)) expect(logged.filter((line) => line.includes(token))).toEqual([]);
    expect(logged.filter((line) => line.includes('jt_not-a-token') || line.includes('jobs_session='))).toEqual([]);
  });
});
