import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UnpositionedJobEvent } from '#contracts';
import { allCommits, collect, collectCommits, describeEventStoreContract, testEvent } from '#testing/event-store.contract';
import { InMemoryEventStore } from './in-memory-event-store.js';

// The adapter used by application tests must behave as the real ones do.
describeEventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore();
  return {
    store,
    publishRaw: async (jobId, body, version) => (await store.appendRaw(jobId, body, version)).position,
    cleanup: () => store.close(),
  };
});

/** Lets pending promise callbacks and timers run, so a subscription reaches its wait. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('InMemoryEventStore', () => {
  let store: InMemoryEventStore;
  beforeEach(() => {
    store = new InMemoryEventStore();
  });
  afterEach(async () => {
    await store.close();
  });

  const appendNext = async (jobId: string, types: Parameters<typeof testEvent>[2][] = ['MessageLogged']) => {
    const commits = await store.readJob(jobId);
    const version = commits.at(-1)?.version ?? 0;
    const events = types.map((type, i) => testEvent(jobId, version + i + 1, type));
    return store.append(jobId, events, { expectedPosition: commits.at(-1)?.position ?? 0, commitId: `${jobId}@${version}` });
  };

  it('starts empty at position 0', async () => {
    expect(await store.headPosition()).toBe(0);
    expect(await allCommits(store)).toEqual([]);
  });

  it('gives each commit the next global position, from 1, across jobs', async () => {
    expect(await appendNext('a')).toEqual({ position: 1, duplicate: false });
    expect(await appendNext('b', ['RecordsRejected', 'Errored'])).toEqual({ position: 2, duplicate: false });
    expect(await appendNext('a')).toEqual({ position: 3, duplicate: false });
    expect(await store.headPosition()).toBe(3);
    expect((await store.readJob('a')).map((commit) => [commit.version, commit.position])).toEqual([
      [1, 1],
      [2, 3],
    ]);
    expect((await store.readJob('b')).map((commit) => [commit.version, commit.position])).toEqual([[2, 2]]);
  });

  it('refuses an empty commit', async () => {
    await expect(store.append('a', [], { expectedPosition: 0, commitId: 'empty' })).rejects.toThrow(/at least one event/);
    expect(await store.headPosition()).toBe(0);
  });

  it('hands out copies: a reader that changes a commit does not change the store', async () => {
    await appendNext('a');
    const [read] = await store.readJob('a');
    read!.events = 'changed';
    const [commit] = await allCommits(store);
    commit!.jobId = 'b';
    expect((await store.readJob('a'))[0]).toMatchObject({ jobId: 'a', events: expect.stringContaining('"version":1') });
  });

  it('keeps what JSON keeps, as a real store does', async () => {
    const event = { ...testEvent('a', 1, 'Finished'), data: { processed: undefined, total: 3 } } as UnpositionedJobEvent;
    await store.append('a', [event], { expectedPosition: 0, commitId: 'json' });
    const [read] = await store.readJob('a');
    expect(JSON.parse(read!.events)[0].data).toStrictEqual({ total: 3 });
  });

  it('ends a catch-up subscription at the head as it was when subscribing', async () => {
    await appendNext('a');
    await appendNext('a');
    const subscription = store.subscribe({ afterPosition: 0, live: false });
    await appendNext('a');
    expect((await collectCommits(subscription)).map((commit) => commit.position)).toEqual([1, 2]);
  });

  it('delivers from afterPosition, then commits appended while it waits', async () => {
    await appendNext('a');
    await appendNext('b');
    const controller = new AbortController();
    const delivered: number[] = [];
    const following = (async () => {
      for await (const batch of store.subscribe({ afterPosition: 1, live: true, signal: controller.signal })) {
        delivered.push(...batch.map((commit) => commit.position));
        if (delivered.length === 3) controller.abort();
      }
    })();
    await settle();
    expect(delivered).toEqual([2]);
    await appendNext('a');
    await appendNext('b');
    await following;
    expect(delivered).toEqual([2, 3, 4]);
  });

  it('lets several live subscriptions follow the same appends', async () => {
    const controller = new AbortController();
    const first = collectCommits(store.subscribe({ afterPosition: 0, live: true, signal: controller.signal }), 2);
    const second = collectCommits(store.subscribe({ afterPosition: 1, live: true, signal: controller.signal }), 1);
    await settle();
    await appendNext('a');
    await appendNext('a');
    expect((await first).map((commit) => commit.position)).toEqual([1, 2]);
    expect((await second).map((commit) => commit.position)).toEqual([2]);
    controller.abort();
  });

  it('delivers nothing to a subscription whose signal was aborted before it started', async () => {
    await appendNext('a');
    const controller = new AbortController();
    controller.abort();
    expect(await collect(store.subscribe({ afterPosition: 0, live: true, signal: controller.signal }))).toEqual([]);
  });

  it('ends live subscriptions on close, and refuses appends after it', async () => {
    await appendNext('a');
    const following = collectCommits(store.subscribe({ afterPosition: 0, live: true }));
    await settle();
    await store.close();
    expect((await following).map((commit) => commit.position)).toEqual([1]);
    await expect(appendNext('a')).rejects.toThrow(/closed/);
    await expect(store.appendRaw('a', 'x', null)).rejects.toThrow(/closed/);
  });
});
