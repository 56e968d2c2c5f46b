import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadModelProjector } from '#query-service';
import { readModelRows } from '#testing/read-models';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;
let lastPosition = 0;

beforeAll(async () => {
  // Two instances, each with its own SQLite file and checkpoint, one queue group per side.
  service = await startTestService('replay', { sides: ['commands', 'queries'], instances: 2 });
  for (let i = 0; i < 40; i++) {
    const { jobId } = await service.command('create', { label: `Replay ${i}`, kind: i % 3 ? 'import' : 'export', actor: `user-${i % 4}` });
    await service.command('start', { jobId });
    await service.command('reject', { jobId, records: [{ line: i + 1, reason: 'bad', record: { i } }] });
    await service.command('log', { jobId, level: i % 2 ? 'warning' : 'info', message: `note ${i}` });
    const end = await service.command(i % 5 ? 'finish' : 'cancel', { jobId });
    expect(end.ok).toBe(true);
    lastPosition = end.position;
  }
});

afterAll(async () => {
  await service?.close();
});

const projectorOf = (index: number) => service.instances[index]!.get(ReadModelProjector);
const fileOf = (index: number) => projectorOf(index).databaseFile;

describe('scale-out', () => {
  it('serves the same results from two query instances', async () => {
    await Promise.all([0, 1].map((i) => projectorOf(i).waitFor(lastPosition, 5_000)));
    const body = { sort: 'createdAt', order: 'asc', limit: 100 } as const;
    const a = projectorOf(0).queries.listJobs(body);
    const b = projectorOf(1).queries.listJobs(body);
    expect(a).toEqual(b);
    expect(readModelRows(fileOf(0))).toEqual(readModelRows(fileOf(1)));
    // Over NATS the queue group answers from either instance, always the same.
    const replies = await Promise.all(Array.from({ length: 20 }, () => service.query('list', { ...body, minPosition: lastPosition })));
    for (const reply of replies) expect(reply).toEqual({ ok: true, ...a });
  });
  it('tells, instance by instance, how far its read models are behind the event store', async () => {
    await Promise.all([0, 1].map((i) => projectorOf(i).waitFor(lastPosition, 5_000)));
    const replies = await service.nc.requestMany(`${service.config.subjectPrefix}.admin.read-models-status`, '{}', {
      strategy: 'count',
      maxMessages: 2,
      maxWait: 5_000,
    });
    const statuses = [];
    for await (const reply of replies) statuses.push(reply.json<Record<string, unknown>>());
    const head = await service.lastSequence();
    expect(head).toBe(lastPosition);
    expect(statuses.map((status) => status.file).sort()).toEqual([fileOf(0), fileOf(1)].sort());
    for (const status of statuses) {
      expect(status).toEqual({
        ok: true,
        instance: { host: expect.any(String), pid: process.pid },
        position: lastPosition,
        head,
        behind: 0,
        file: expect.any(String),
        rebuilding: false,
        lastError: null,
        quarantined: { count: 0, last: null },
      });
    }
  });
});

describe('replay', () => {
  it('rebuilds every read model from position 0 into a fresh file equal to the live one, while queries go on', async () => {
    await projectorOf(0).waitFor(lastPosition, 5_000);
    const liveFile = fileOf(0);
    const live = readModelRows(liveFile);
    expect(live.jobs).toHaveLength(40);

    let answered = 0;
    let rebuilding = true;
    const querying = (async () => {
      while (rebuilding) {
        const reply = await service.query('list', { limit: 5 });
        expect(reply.ok).toBe(true);
        answered++;
      }
    })();
    // Every instance rebuilds its own read models and answers.
    const replies = await service.nc.requestMany(`${service.config.subjectPrefix}.admin.rebuild-read-models`, '{}', {
      strategy: 'count',
      maxMessages: 2,
      maxWait: 10_000,
    });
    const reports = [];
    for await (const reply of replies) reports.push(reply.json<{ ok: boolean; events: number; position: number }>());
    rebuilding = false;
    await querying;

    expect(reports).toHaveLength(2);
    for (const report of reports) expect(report).toMatchObject({ ok: true, events: 200, position: lastPosition });
    expect(answered).toBeGreaterThan(0);
    const rebuiltFile = fileOf(0);
    expect(rebuiltFile).not.toBe(liveFile);
    expect(readModelRows(rebuiltFile)).toEqual(live);

    // The swapped-in file keeps following the live stream.
    const { jobId, position } = await service.command('create', { label: 'After the rebuild', kind: 'export' });
    expect(await service.query('get', { jobId, minPosition: position })).toMatchObject({ ok: true, job: { jobId } });
  });
});
