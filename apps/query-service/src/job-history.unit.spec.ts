import type { NatsConnection } from '@nats-io/nats-core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { HistoryReply, JobEvent, UnpositionedJobEvent } from '#contracts';
import { querySchemas } from '#contracts';
import { InMemoryEventStore } from '#event-store';
import { encodeCommit, JobStreams } from '#testing/job-streams';
import { JobHistory } from './job-history.js';

const connection = { info: { max_payload: 1024 * 1024 } } as NatsConnection;
let store: InMemoryEventStore;
let reads: number;

/**
 * A job of commits of `sizes[c]` log events each after its creation; version v's line is `line v`.
 * Gives a function that appends more such commits.
 */
async function job(jobId: string, sizes: number[]): Promise<(more: number[]) => Promise<void>> {
  const streams = new JobStreams();
  const unpositioned = ({ position: _, ...event }: JobEvent): UnpositionedJobEvent => event;
  const created = streams.run('create', { jobId, label: jobId, kind: 'import' }).events.map(unpositioned);
  let { position } = await store.append(jobId, created, { expectedPosition: 0, commitId: `${jobId}:0` });
  const append = async (more: number[]) => {
    for (const size of more) {
      const events: UnpositionedJobEvent[] = [];
      for (let n = 0; n < size; n++) {
        const version = streams.state(jobId).version + 1;
        events.push(...streams.run('log', { jobId, level: 'info', message: `line ${version}` }).events.map(unpositioned));
      }
      ({ position } = await store.append(jobId, events, { expectedPosition: position, commitId: `${jobId}:${position}` }));
    }
  };
  await append(sizes);
  return append;
}

async function page(history: JobHistory, body: Record<string, unknown>): Promise<HistoryReply> {
  const reply = await history.page(querySchemas.history.parse(body));
  if (!reply.ok) throw new Error(reply.error.message);
  return reply;
}

/** Every page, each from the history `next()` gives. */
async function pages(next: () => JobHistory, body: Record<string, unknown>): Promise<HistoryReply[]> {
  const all = [await page(next(), body)];
  while (all.at(-1)!.nextCursor !== null) all.push(await page(next(), { ...body, cursor: all.at(-1)!.nextCursor }));
  return all;
}

const versions = (replies: HistoryReply[]) => replies.flatMap((reply) => reply.events.map((event) => event.version));

beforeEach(() => {
  store = new InMemoryEventStore();
  reads = 0;
  const readJob = store.readJob.bind(store);
  store.readJob = (...args) => {
    reads++;
    return readJob(...args);
  };
});

describe('JobHistory', () => {
  it('pages through commits of several events, cut inside a commit, with the same state on every page', async () => {
    await job('job-1', [3, 3, 3]);
    const history = new JobHistory(store, connection);
    const replies = await pages(() => history, { jobId: 'job-1', limit: 4 });
    expect(replies.map((reply) => reply.events.map((event) => event.version))).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10],
    ]);
    expect(replies.map((reply) => reply.state?.version)).toEqual([10, 10, 10]);
    expect(replies.at(-1)!.events.at(-1)).toMatchObject({ version: 10, data: { message: 'line 10' }, position: 4 });
  });

  it('gives the same pages when each comes from another instance, with nothing cached', async () => {
    await job('job-1', [3, 1, 5, 2]);
    const one = new JobHistory(store, connection);
    const same = await pages(() => one, { jobId: 'job-1', limit: 3 });
    const fresh = await pages(() => new JobHistory(store, connection), { jobId: 'job-1', limit: 3 });
    expect(fresh).toEqual(same);
    expect(versions(fresh)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('reads a page after the first from where the last one ended, and the first only up to atVersion', async () => {
    await job('job-1', Array(50).fill(1));
    const history = new JobHistory(store, connection);
    reads = 0;
    const first = await page(history, { jobId: 'job-1', atVersion: 5 });
    expect(first).toMatchObject({ nextCursor: null, state: { version: 5 } });
    expect(reads).toBe(1);
    const readJob = store.readJob.bind(store);
    const asked: unknown[] = [];
    store.readJob = (jobId, options) => {
      asked.push(options);
      return readJob(jobId, options);
    };
    const start = await page(history, { jobId: 'job-1', limit: 10 });
    await page(history, { jobId: 'job-1', limit: 10, cursor: start.nextCursor });
    expect(asked.at(-1)).toEqual({ afterPosition: 10, toVersion: 20 });
  });

  it('leaves out a commit that fails its check, on every page and in the state', async () => {
    await job('job-1', [1, 1]);
    await store.appendRaw('job-1', JSON.stringify([{ type: 'Finished', version: 4 }]), 4);
    await job('job-2', []);
    const replies = await pages(() => new JobHistory(store, connection), { jobId: 'job-1', limit: 1 });
    expect(versions(replies)).toEqual([1, 2, 3]);
    expect(replies.at(-1)!.state).toMatchObject({ version: 3, status: 'editing' });
  });

  it('lists each commit that failed its check on the page it falls in, from where the page starts to where the next one does', async () => {
    const streams = new JobStreams();
    let last = 0;
    const append = async (name: 'create' | 'log', body: Record<string, unknown>) => {
      const { events } = encodeCommit(streams.run(name, { jobId: 'job-1', ...body } as never));
      ({ position: last } = await store.append('job-1', JSON.parse(events), { expectedPosition: last, commitId: `c-${last}` }));
    };
    const garbage = async () => (last = (await store.appendRaw('job-1', 'this is not json', null)).position);
    await append('create', { label: 'Job', kind: 'import' });
    const first = await garbage();
    await append('log', { level: 'info', message: 'two' });
    await append('log', { level: 'info', message: 'three' });
    const second = await garbage();
    await append('log', { level: 'info', message: 'four' });
    // After the job's last version: part of no history until the job moves on.
    await garbage();
    const replies = await pages(() => new JobHistory(store, connection), { jobId: 'job-1', limit: 2 });
    expect(replies.map((reply) => reply.events.map((event) => event.version))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const notJson = (position: number) => ({ position, reason: 'its body is not JSON' });
    expect(replies.map((reply) => reply.quarantined)).toEqual([[notJson(first)], [notJson(second)]]);
  });

  it("ends the last page with a latestCursor, which reads what came after, up to the job's version then", async () => {
    const more = await job('job-1', [3, 3]);
    const history = new JobHistory(store, connection);
    const read = await pages(() => history, { jobId: 'job-1', limit: 4 });
    expect(read.map((reply) => reply.latestCursor === null)).toEqual([true, false]);
    const nothingYet = await page(history, { jobId: 'job-1', cursor: read.at(-1)!.latestCursor });
    expect(nothingYet).toMatchObject({ events: [], state: { version: 7 }, nextCursor: null });

    await more([2, 3]);
    // From this instance, and from one that cached nothing: the new events, the job as it is now.
    for (const reader of [history, new JobHistory(store, connection)]) {
      const after = await pages(() => reader, { jobId: 'job-1', limit: 3, cursor: nothingYet.latestCursor });
      expect(after.map((reply) => reply.events.map((event) => event.version))).toEqual([
        [8, 9, 10],
        [11, 12],
      ]);
      expect(after.map((reply) => reply.state?.version)).toEqual([12, 12]);
      expect(await page(reader, { jobId: 'job-1', cursor: after.at(-1)!.latestCursor })).toMatchObject({
        events: [],
        state: { version: 12 },
      });
    }
  });

  it('reads on from a history read at a version inside a commit, from the version after it', async () => {
    const more = await job('job-1', [3]);
    const history = new JobHistory(store, connection);
    const atTwo = await page(history, { jobId: 'job-1', atVersion: 2 });
    await more([1]);
    for (const reader of [history, new JobHistory(store, connection)]) {
      const after = await page(reader, { jobId: 'job-1', cursor: atTwo.latestCursor });
      expect(after.events.map((event) => event.version)).toEqual([3, 4, 5]);
    }
  });

  it('refuses a latestCursor with an atVersion, or of another job', async () => {
    await job('job-1', [1, 1]);
    await job('job-2', []);
    const history = new JobHistory(store, connection);
    const { latestCursor } = await page(history, { jobId: 'job-1' });
    for (const body of [
      { jobId: 'job-1', atVersion: 2, cursor: latestCursor },
      { jobId: 'job-2', cursor: latestCursor },
    ]) {
      expect(await history.page(querySchemas.history.parse(body))).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    }
  });

  it('refuses a cursor of another job, or another atVersion', async () => {
    await job('job-1', [1, 1, 1]);
    await job('job-2', []);
    const history = new JobHistory(store, connection);
    const first = await page(history, { jobId: 'job-1', limit: 1 });
    for (const body of [
      { jobId: 'job-2', cursor: first.nextCursor },
      { jobId: 'job-1', atVersion: 3, cursor: first.nextCursor },
    ]) {
      expect(await history.page(querySchemas.history.parse(body))).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    }
  });
});
