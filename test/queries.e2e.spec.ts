import { Objm } from '@nats-io/obj';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NATS_URL } from '#testing/nats';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService('queries', { sides: ['commands', 'queries'], env: { JOBS_QUERY_WAIT_MS: '500' } });
});

afterAll(async () => {
  await service?.close();
});

/** Sends a command and fails the test on an error reply. */
async function send(name: string, body: Record<string, unknown>) {
  const reply = await service.command(name, body);
  expect(reply, `${name} ${JSON.stringify(body)}`).toMatchObject({ ok: true });
  return reply as { jobId: string; version: number; position: number; status: string };
}

describe('a job seen by operators', () => {
  it('shows every lifecycle step in get, logs and rejects, reading its own writes', async () => {
    const { jobId } = await send('create', {
      label: 'Contacts of November',
      kind: 'import',
      actor: 'alice',
      rejectPolicy: { maxRejects: 1 },
    });
    await send('start', { jobId, actor: 'alice' });
    await send('claim', { jobId, executor: 'executor-1', actor: 'executor-1' });
    await send('progress', { jobId, processed: 50, total: 200, actor: 'executor-1' });
    await send('log', { jobId, level: 'info', message: 'file opened', actor: 'executor-1' });
    await send('reject', { jobId, records: [{ line: 12, reason: 'invalid email', record: { email: 'x@' } }], actor: 'executor-1' });
    const last = await send('reject', { jobId, records: [{ line: 30, reason: 'missing id', record: 'a;;c' }], actor: 'executor-1' });
    expect(last.status).toBe('finished_with_error');

    const { job } = await service.query('get', { jobId, minPosition: last.position });
    expect(job).toMatchObject({
      jobId,
      label: 'Contacts of November',
      kind: 'import',
      status: 'finished_with_error',
      statusLabel: 'Finished with error',
      createdBy: 'alice',
      processed: 50,
      total: 200,
      rejected: 2,
      progress: 25,
      warning: true,
      lastError: { code: 'REJECT_LIMIT_EXCEEDED' },
      // The run ended: no executor holds the job any more.
      executor: null,
      leaseMs: null,
      version: 8,
    });
    expect(job.startedAt).not.toBeNull();
    expect(job.endedAt).not.toBeNull();

    const logs = await service.query('logs', { jobId });
    expect(logs.items.map((entry: { eventType: string }) => entry.eventType)).toEqual([
      'Created',
      'Started',
      'Claimed',
      'MessageLogged',
      'RecordsRejected',
      'RecordsRejected',
      'Errored',
    ]);
    expect(logs.items[0].message).toContain('alice');
    expect(logs.items[2].message).toContain('executor-1');
    expect(logs.items[3]).toMatchObject({ level: 'info', message: 'file opened' });
    expect(logs.items[6].level).toBe('error');
    expect(logs.items[6].message).toMatch(/limit/);

    const errorsOnly = await service.query('logs', { jobId, level: 'error' });
    expect(errorsOnly.items.map((entry: { eventType: string }) => entry.eventType)).toEqual(['Errored']);
    const afterSecond = await service.query('logs', { jobId, after: logs.items[1].id, limit: 2 });
    expect(afterSecond.items.map((entry: { id: number }) => entry.id)).toEqual([logs.items[2].id, logs.items[3].id]);

    const rejects = await service.query('rejects', { jobId });
    expect(rejects).toMatchObject({ ok: true, total: 2, nextCursor: null });
    expect(rejects.items).toEqual([
      { line: 12, reason: 'invalid email', record: { email: 'x@' }, at: expect.any(String) },
      { line: 30, reason: 'missing id', record: 'a;;c', at: expect.any(String) },
    ]);
  });

  it('answers a NestJS ClientProxy as it answers a plain request', async () => {
    const client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [TEST_NATS_URL] } }) as ClientProxy;
    await client.connect();
    try {
      const created = await send('create', { label: 'Nest reader', kind: 'export' });
      const body = { jobId: created.jobId, minPosition: created.position };
      const viaNest = await firstValueFrom(client.send(`${service.config.subjectPrefix}.query.get`, body));
      expect(viaNest).toEqual(await service.query('get', body));
    } finally {
      await client.close();
    }
  });
});

describe('the job list', () => {
  const tag = `list-${Date.now()}`;
  const ids: string[] = [];
  let position = 0;

  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      const reply = await send('create', {
        label: `${tag} ${i % 2 === 0 ? 'Weekly' : 'Daily'} export ${i}`,
        kind: i % 2 === 0 ? 'export' : 'import',
        actor: i < 3 ? 'bob' : 'carol',
      });
      ids.push(reply.jobId);
      position = reply.position;
      if (i >= 4) position = (await send('start', { jobId: reply.jobId })).position;
    }
  });

  it('filters by status, kind, creator and text', async () => {
    const running = await service.query('list', { text: tag, status: 'running', minPosition: position });
    expect(running.items.map((job: { jobId: string }) => job.jobId).sort()).toEqual(ids.slice(4).sort());
    expect(running.total).toBe(3);
    const several = await service.query('list', { text: tag, status: ['running', 'editing'] });
    expect(several.total).toBe(7);
    const exportsByBob = await service.query('list', { text: tag, kind: 'export', createdBy: 'bob' });
    expect(exportsByBob.items.map((job: { jobId: string }) => job.jobId).sort()).toEqual([ids[0], ids[2]].sort());
    const weekly = await service.query('list', { text: `${tag} WEEKLY` });
    expect(weekly.total).toBe(4);
  });

  it('sorts and pages with a cursor, the total on every page', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.query('list', { text: tag, sort: 'createdAt', order: 'asc', limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.total).toBe(7);
      seen.push(...page.items.map((job: { jobId: string }) => job.jobId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(ids);
    const newestUpdated = await service.query('list', { text: tag, sort: 'updatedAt', order: 'desc', limit: 1 });
    expect(newestUpdated.items[0].jobId).toBe(ids[6]);
  });

  it('filters by a creation time range', async () => {
    const first = (await service.query('get', { jobId: ids[0] })).job;
    const last = (await service.query('get', { jobId: ids[6] })).job;
    const range = await service.query('list', { text: tag, createdAfter: first.createdAt, createdBefore: last.createdAt });
    expect(range.items.map((job: { jobId: string }) => job.jobId)).not.toContain(ids[6]);
    expect(range.items.map((job: { jobId: string }) => job.jobId)).toContain(ids[0]);
  });
});

describe('history', () => {
  it('replays a job from the event store, and its state at a version or a time', async () => {
    const { jobId } = await send('create', {
      label: 'Audited import',
      kind: 'import',
      actor: 'auditor-test',
      definition: { source: 'sftp://x' },
    });
    await send('start', { jobId });
    // An executor runs the job, so the pause waits for it to confirm.
    await send('claim', { jobId, executor: 'executor-1' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await send('pause', { jobId, actor: 'bob' });
    const full = await service.query('history', { jobId });
    expect(full.events.map((event: { type: string; version: number }) => [event.version, event.type])).toEqual([
      [1, 'Created'],
      [2, 'Started'],
      [3, 'Claimed'],
      [4, 'PauseRequested'],
    ]);
    for (const event of full.events) {
      expect(Object.keys(event).sort()).toEqual(
        [
          'actor',
          'actorAuthenticated',
          'at',
          'causationId',
          'commandId',
          'correlationId',
          'data',
          'eventId',
          'jobId',
          'position',
          'schemaVersion',
          'type',
          'version',
        ].sort(),
      );
    }
    expect(full.events[3].actor).toBe('bob');
    expect(full.state).toMatchObject({
      status: 'pausing',
      version: 4,
      executor: 'executor-1',
      checkpoint: null,
      definition: { source: 'sftp://x' },
    });

    const atTwo = await service.query('history', { jobId, atVersion: 2 });
    expect(atTwo.events).toHaveLength(2);
    expect(atTwo.state).toMatchObject({ status: 'running', version: 2, executor: null });
    // The claim may share the start's millisecond: the time of the claim is the state with both.
    const atTime = await service.query('history', { jobId, atTime: full.events[2].at });
    expect(atTime.state).toMatchObject({ status: 'running', version: 3, executor: 'executor-1' });
    const before = await service.query('history', { jobId, atVersion: 0 });
    expect(before).toEqual({ ok: true, events: [], state: null, nextCursor: null, latestCursor: expect.any(String), quarantined: [] });
    // Read on from before the job existed: its whole history, and the job as it is now.
    const since = await service.query('history', { jobId, cursor: before.latestCursor });
    expect(since.events).toEqual(full.events);
    expect(since.state).toEqual(full.state);

    expect(await service.query('history', { jobId, atVersion: 5 })).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        message: `job ${jobId} has 4 versions: atVersion goes from 0 to 4`,
        issues: [{ path: 'atVersion', message: `job ${jobId} has 4 versions: atVersion goes from 0 to 4` }],
      },
    });
  });
});

describe('rejects export', () => {
  it('pages through 100,000 rejects and exports them all as CSV', async () => {
    const { jobId } = await send('create', { label: 'Huge import', kind: 'import', rejectPolicy: { maxRejects: null } });
    await send('start', { jobId });
    let position = 0;
    for (let batch = 0; batch < 100; batch++) {
      const records = Array.from({ length: 1_000 }, (_, i) => {
        const line = batch * 1_000 + i + 1;
        return { line, reason: line % 2 ? 'bad "email"' : 'missing, id', record: { line, email: `user${line}@example` } };
      });
      position = (await send('reject', { jobId, records })).position;
    }
    const firstPage = await service.query('rejects', { jobId, limit: 1000, minPosition: position });
    expect(firstPage.total).toBe(100_000);
    expect(firstPage.items[0]).toMatchObject({ line: 1, reason: 'bad "email"' });
    const secondPage = await service.query('rejects', { jobId, limit: 1000, cursor: firstPage.nextCursor });
    expect(secondPage.items[0].line).toBe(1_001);

    const exported = await service.query('rejects-export', { jobId });
    expect(exported).toMatchObject({ ok: true, jobId, contentType: 'text/csv', bucket: `${service.config.stream}_exports` });
    const store = await new Objm(service.nc).open(exported.bucket);
    const csv = new TextDecoder().decode((await store.getBlob(exported.name))!);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(100_001);
    expect(lines[0]).toBe('line,reason,record,at');
    expect(lines[1]).toMatch(/^1,"bad ""email""","{""line"":1,""email"":""user1@example""}",20/);
    expect(lines[2]).toMatch(/^2,"missing, id",/);
    expect(exported.size).toBe(Buffer.byteLength(csv));
  }, 60_000);
});

describe('bad queries', () => {
  const cases: [string, string, unknown, string][] = [
    ['an unknown job', 'get', { jobId: 'no-such-job' }, 'JOB_NOT_FOUND'],
    ['logs of an unknown job', 'logs', { jobId: 'no-such-job' }, 'JOB_NOT_FOUND'],
    ['history of an unknown job', 'history', { jobId: 'no-such-job' }, 'JOB_NOT_FOUND'],
    ['a bad cursor', 'list', { cursor: 'not-a-cursor' }, 'VALIDATION_FAILED'],
    ['a mistyped filter', 'list', { status: 'done' }, 'VALIDATION_FAILED'],
    ['a limit over the maximum', 'list', { limit: 501 }, 'VALIDATION_FAILED'],
    ['an unknown field', 'logs', { jobId: 'a', since: 3 }, 'VALIDATION_FAILED'],
    ['an unknown query', 'everything', {}, 'UNKNOWN_COMMAND'],
    ['a position the read models will not reach in time', 'list', { minPosition: 10_000_000 }, 'TIMEOUT'],
  ];
  it.each(cases)('answers %s with a typed error', async (_, name, body, code) => {
    expect(await service.query(name, body)).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
  });

  it('answers malformed JSON with VALIDATION_FAILED', async () => {
    expect(await service.request(`${service.config.subjectPrefix}.query.list`, '{"limit":')).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
  });
});
