import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, UnpositionedJobEvent } from '#contracts';
import { JetStreamEventStore } from '#event-store';
import { JobStreams } from '#testing/job-streams';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;
let store: JetStreamEventStore;

beforeAll(async () => {
  service = await startTestService('history-paging', { sides: ['commands', 'queries'] });
  store = await JetStreamEventStore.open(service.nc, { stream: service.config.stream, subjectPrefix: service.config.subjectPrefix });
});

afterAll(async () => {
  await store?.close();
  await service?.close();
});

/** A history query as a client with a 5 s timeout sends it: no answer fails the test. */
async function history(body: Record<string, unknown>): Promise<any> {
  const subject = `${service.config.subjectPrefix}.query.history`;
  return (await service.nc.request(subject, JSON.stringify(body), { timeout: 5_000 })).json();
}

/** Every page of a history, following nextCursor; a page too large for a reply is asked again with half the limit. */
async function allPages(body: Record<string, unknown>): Promise<{ pages: any[]; events: any[] }> {
  const pages: any[] = [];
  let cursor: string | undefined;
  let limit = 1_000;
  for (;;) {
    const page = await history({ ...body, limit, ...(cursor === undefined ? {} : { cursor }) });
    if (!page.ok) {
      expect(page).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
      expect(limit).toBeGreaterThan(1);
      limit = Math.ceil(limit / 2);
      continue;
    }
    pages.push(page);
    if (page.nextCursor === null) return { pages, events: pages.flatMap((each) => each.events) };
    cursor = page.nextCursor;
  }
}

/** An event as the service appends it: its position is the store's to give. */
function unpositioned({ position: _, ...event }: JobEvent): UnpositionedJobEvent {
  return event;
}

/**
 * Appends a created job, then commits of log events, `sizes[c]` events in commit c, the line of
 * event v `message(v)`: long histories fast (the service itself writes one commit per command).
 */
async function longJob(jobId: string, sizes: number[], message = (version: number) => `line ${version}`): Promise<number> {
  const streams = new JobStreams();
  const created = streams.run('create', { jobId, label: 'Long job', kind: 'import' }).events.map(unpositioned);
  let { position } = await store.append(jobId, created, { expectedPosition: 0, commitId: `${jobId}:create` });
  for (const [c, size] of sizes.entries()) {
    const events: UnpositionedJobEvent[] = [];
    for (let n = 0; n < size; n++) {
      const version = streams.state(jobId).version + 1;
      const logged = streams.run('log', { jobId, level: 'info', message: message(version) });
      events.push(...logged.events.map(unpositioned));
    }
    ({ position } = await store.append(jobId, events, { expectedPosition: position, commitId: `${jobId}:${c}` }));
  }
  return position;
}

describe('history', () => {
  it('pages with limit and cursor, each page with the state asked for and nextCursor null on the last', async () => {
    const { jobId } = await service.command('create', { label: 'Paged', kind: 'import', definition: { source: 'a' } });
    await service.command('start', { jobId });
    for (let n = 0; n < 5; n++) await service.command('progress', { jobId, processed: n });
    const first = await history({ jobId, limit: 3 });
    expect(first.events.map((event: any) => event.version)).toEqual([1, 2, 3]);
    expect(first.state).toMatchObject({ version: 7, status: 'running', processed: 4, definition: { source: 'a' } });
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await history({ jobId, limit: 3, cursor: first.nextCursor });
    expect(second.events.map((event: any) => event.version)).toEqual([4, 5, 6]);
    expect(second.state).toEqual(first.state);
    const last = await history({ jobId, limit: 3, cursor: second.nextCursor });
    expect(last.events.map((event: any) => event.version)).toEqual([7]);
    expect(last.nextCursor).toBeNull();
    expect(first.latestCursor).toBeNull();

    // The last page's latestCursor reads what the job did since, up to its version then.
    expect(await history({ jobId, cursor: last.latestCursor })).toMatchObject({ ok: true, events: [], state: { version: 7 } });
    await service.command('progress', { jobId, processed: 5 });
    await service.command('log', { jobId, level: 'info', message: 'half way' });
    const since = await history({ jobId, cursor: last.latestCursor });
    expect(since.events.map((event: any) => event.type)).toEqual(['ProgressReported', 'MessageLogged']);
    expect(since).toMatchObject({ nextCursor: null, state: { version: 9, processed: 5 } });
    expect(await history({ jobId, cursor: since.latestCursor })).toMatchObject({ ok: true, events: [] });

    const upToFour = await history({ jobId, atVersion: 4, limit: 3 });
    expect(upToFour.state).toMatchObject({ version: 4, processed: 1 });
    const rest = await history({ jobId, atVersion: 4, limit: 3, cursor: upToFour.nextCursor });
    expect(rest).toMatchObject({ ok: true, nextCursor: null, state: { version: 4 } });
    expect(rest.events.map((event: any) => event.version)).toEqual([4]);

    expect(await history({ jobId, cursor: 'not a cursor' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', issues: [{ path: 'cursor' }] },
    });
    expect(await history({ jobId, limit: 1_001 })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });

  it('answers a job with five 250 KB rejects, page by page, never with silence', async () => {
    const { jobId } = await service.command('create', { label: 'Big rejects', kind: 'import', rejectPolicy: { maxRejects: null } });
    await service.command('start', { jobId });
    for (let n = 0; n < 5; n++) {
      const records = Array.from({ length: 50 }, (_, i) => ({ line: n * 50 + i + 1, reason: 'too wide', record: 'x'.repeat(5_000) }));
      expect(await service.command('reject', { jobId, records })).toMatchObject({ ok: true });
    }
    const first = await history({ jobId });
    expect(first.ok ? first.nextCursor : first.error.code).toEqual(first.ok ? expect.any(String) : 'PAYLOAD_TOO_LARGE');
    const { events } = await allPages({ jobId });
    expect(events.map((event) => event.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('pages through 30,000 events', async () => {
    await longJob('thirty-thousand', Array(30).fill(1_000));
    const { pages, events } = await allPages({ jobId: 'thirty-thousand' });
    expect(events).toHaveLength(30_001);
    expect(events.every((event, index) => event.version === index + 1)).toBe(true);
    expect(pages.length).toBeGreaterThanOrEqual(31);
    expect(pages.at(-1).state).toMatchObject({ version: 30_001 });
  }, 60_000);

  it('reads only the commits up to atVersion', async () => {
    // Five small commits, then 20 of about 600 KB.
    const head = await longJob('read-to-five', [1, 1, 1, 1, ...Array(20).fill(1_000)], (version) =>
      version <= 5 ? 'short' : 'y'.repeat(400),
    );
    // The projector shares the connection: once it holds the whole job, only the history's reads are counted.
    await service.query('get', { jobId: 'read-to-five', minPosition: head, maxWaitMs: 30_000 });
    const connection = service.instances[0]!.unwrap<NatsConnection>();
    const before = connection.stats().inBytes;
    const atFive = await history({ jobId: 'read-to-five', atVersion: 5 });
    const read = connection.stats().inBytes - before;
    expect(atFive).toMatchObject({ ok: true, nextCursor: null, state: { version: 5 } });
    expect(atFive.events).toHaveLength(5);
    expect(read).toBeLessThan(100_000);
  });
});
