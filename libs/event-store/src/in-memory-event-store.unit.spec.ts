import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UnpositionedJobEvent } from '#contracts';
import { collect, describeEventStoreContract, testEvent } from '#testing/event-store.contract';
import { ConcurrencyError } from './event-store.port.js';
import { InMemoryEventStore } from './in-memory-event-store.js';

// The adapter used by application tests must behave as the real ones do.
describeEventStoreContract('in-memory', async () => {
  const store = new InMemoryEventStore();
  return { store, cleanup: () => store.close() };
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
    const head = await store.jobHead(jobId);
    const events = types.map((type, i) => testEvent(jobId, head.version + i + 1, type));
    return store.append(jobId, events, { expectedVersion: head.version, commitId: `${jobId}@${head.version}` });
  };

  it('starts empty at position 0', async () => {
    expect(await store.headPosition()).toBe(0);
    expect(await collect(store.subscribe({ afterPosition: 0, live: false }))).toEqual([]);
  });

  it('gives each commit the next global position, from 1, across jobs', async () => {
    expect(await appendNext('a')).toEqual({ position: 1, duplicate: false });
    expect(await appendNext('b', ['RecordsRejected', 'Errored'])).toEqual({ position: 2, duplicate: false });
    expect(await appendNext('a')).toEqual({ position: 3, duplicate: false });
    expect(await store.headPosition()).toBe(3);
    expect(await store.jobHead('a')).toEqual({ version: 2, position: 3 });
    expect(await store.jobHead('b')).toEqual({ version: 2, position: 2 });
    expect((await store.readJob('b')).map((event) => [event.version, event.position])).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  it('reports the expected version of a refused append', async () => {
    await appendNext('a');
    const refused = store.append('a', [testEvent('a', 3)], { expectedVersion: 2, commitId: 'other' });
    await expect(refused).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(refused).rejects.toMatchObject({ jobId: 'a', expectedVersion: 2 });
    expect(await store.headPosition()).toBe(1);
  });

  it('recognises a retried commit id after the job has moved on, and appends nothing', async () => {
    const first = await store.append('a', [testEvent('a', 1)], { expectedVersion: 0, commitId: 'c1' });
    await store.append('a', [testEvent('a', 2)], { expectedVersion: 1, commitId: 'c2' });
    expect(await store.append('a', [testEvent('a', 1)], { expectedVersion: 0, commitId: 'c1' })).toEqual({
      position: first.position,
      duplicate: true,
    });
    expect(await store.headPosition()).toBe(2);
    expect(await store.jobHead('a')).toEqual({ version: 2, position: 2 });
  });

  it('refuses an empty commit', async () => {
    await expect(store.append('a', [], { expectedVersion: 0, commitId: 'empty' })).rejects.toThrow(/at least one event/);
    expect(await store.headPosition()).toBe(0);
  });

  it('skips the commits up to afterPosition when reading a job', async () => {
    await appendNext('a');
    await appendNext('b');
    const third = await appendNext('a');
    expect((await store.readJob('a', { afterPosition: 1 })).map((event) => [event.version, event.position])).toEqual([[2, third.position]]);
  });

  it('hands out copies: a reader that mutates events does not change the store', async () => {
    await appendNext('a');
    const [read] = await store.readJob('a');
    read!.actor = 'mallory';
    const [commit] = await collect(store.subscribe({ afterPosition: 0, live: false }));
    commit!.events[0]!.version = 99;
    expect((await store.readJob('a'))[0]).toMatchObject({ actor: 'contract-test', version: 1 });
  });

  it('keeps what JSON keeps, as a real store does', async () => {
    const event = { ...testEvent('a', 1, 'Finished'), data: { processed: undefined, total: 3 } } as UnpositionedJobEvent;
    await store.append('a', [event], { expectedVersion: 0, commitId: 'json' });
    const [read] = await store.readJob('a');
    expect(read!.data).toStrictEqual({ total: 3 });
  });

  it('ends a catch-up subscription at the head as it was when subscribing', async () => {
    await appendNext('a');
    await appendNext('a');
    const subscription = store.subscribe({ afterPosition: 0, live: false });
    await appendNext('a');
    expect((await collect(subscription)).map((commit) => commit.position)).toEqual([1, 2]);
  });

  it('delivers from afterPosition, then commits appended while it waits', async () => {
    await appendNext('a');
    await appendNext('b');
    const controller = new AbortController();
    const delivered: number[] = [];
    const following = (async () => {
      for await (const commit of store.subscribe({ afterPosition: 1, live: true, signal: controller.signal })) {
        delivered.push(commit.position);
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
    const first = collect(store.subscribe({ afterPosition: 0, live: true, signal: controller.signal }), 2);
    const second = collect(store.subscribe({ afterPosition: 1, live: true, signal: controller.signal }), 1);
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
    const following = collect(store.subscribe({ afterPosition: 0, live: true }));
    await settle();
    await store.close();
    expect((await following).map((commit) => commit.position)).toEqual([1]);
    await expect(appendNext('a')).rejects.toThrow(/closed/);
  });
});
