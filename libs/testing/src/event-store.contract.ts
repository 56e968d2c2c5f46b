import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EncodedJobEventCommit, JobEvent, UnpositionedJobEvent } from '#contracts';
import { checkCommit, initialJobState } from '#domain';
import { ConcurrencyError, type EventStore } from '#event-store';

export interface ContractSubject {
  store: EventStore;
  /**
   * Puts any body on a job's subject, with a `Job-Version` header (null: none), as a client allowed
   * to publish there could; its position.
   */
  publishRaw(jobId: string, body: string, version: number | null): Promise<number>;
  cleanup(): Promise<void>;
}

let jobCounter = 0;
const nextJobId = () => `job-${process.pid}-${++jobCounter}`;

/** An event shaped as the decider makes them; the store treats it as opaque data. */
export function testEvent(jobId: string, version: number, type: UnpositionedJobEvent['type'] = 'MessageLogged'): UnpositionedJobEvent {
  return {
    eventId: `${jobId}:${version}`,
    type,
    schemaVersion: 1,
    jobId,
    version,
    at: new Date(1_700_000_000_000 + version).toISOString(),
    commandId: `cmd-${jobId}-${version}`,
    correlationId: 'corr',
    causationId: 'cause',
    actor: 'contract-test',
    data: { level: 'info', message: `event ${version}` },
  } as UnpositionedJobEvent;
}

/** What an iterable delivers, up to `max` items. */
export async function collect<T>(iterable: AsyncIterable<T>, max = Infinity): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) {
    items.push(item);
    if (items.length >= max) break;
  }
  return items;
}

/** The commits a subscription delivers, out of their batches, up to `max` (it stops after the batch that reaches it). */
export async function collectCommits(batches: AsyncIterable<EncodedJobEventCommit[]>, max = Infinity): Promise<EncodedJobEventCommit[]> {
  const commits: EncodedJobEventCommit[] = [];
  for await (const batch of batches) {
    commits.push(...batch);
    if (commits.length >= max) break;
  }
  return commits;
}

/** Every commit of a catch-up subscription. */
export function allCommits(store: EventStore, afterPosition = 0): Promise<EncodedJobEventCommit[]> {
  return collectCommits(store.subscribe({ afterPosition, live: false }));
}

/**
 * A job's events as the service reads them: each commit checked as its readers check it, each event
 * with its commit's position. A test that reads a job expects every commit to pass: one that fails throws.
 */
export async function readJobEvents(store: EventStore, jobId: string): Promise<JobEvent[]> {
  let state = initialJobState(jobId);
  const events: JobEvent[] = [];
  for (const commit of await store.readJob(jobId)) {
    const checked = checkCommit(state, commit);
    if (!checked.ok) throw new Error(`the commit at position ${commit.position} of job ${jobId} fails its check: ${checked.reason}`);
    state = checked.state;
    for (const event of checked.events) events.push({ ...event, position: commit.position });
  }
  return events;
}

/** The events a commit's body holds, as the store handed it over. */
const eventsOf = (commit: EncodedJobEventCommit): UnpositionedJobEvent[] => JSON.parse(commit.events);

/** The behaviour every EventStore adapter must show, run against each one. */
export function describeEventStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`EventStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    /** Appends one commit of these versions after the job's last commit; its position. */
    async function appendNext(jobId: string, versions: number[], after: number): Promise<number> {
      const events = versions.map((version) => testEvent(jobId, version));
      const { position } = await store.append(jobId, events, { expectedPosition: after, commitId: `${jobId}-v${versions[0]}` });
      return position;
    }

    it('appends a new job and reads it back: its position, its subject job, its version header, its events as stored', async () => {
      const jobId = nextJobId();
      const event = testEvent(jobId, 1);
      const result = await store.append(jobId, [event], { expectedPosition: 0, commitId: `${jobId}-1` });
      expect(result.duplicate).toBe(false);
      expect(result.position).toBeGreaterThan(0);
      const commits = await store.readJob(jobId);
      expect(commits).toEqual([{ position: result.position, jobId, version: 1, events: expect.any(String) }]);
      expect(eventsOf(commits[0]!)).toEqual([event]);
    });

    it('reads an unknown job as no commits', async () => {
      expect(await store.readJob(nextJobId())).toEqual([]);
    });

    it("refuses an append that does not expect the job's last commit, and appends nothing", async () => {
      const jobId = nextJobId();
      const first = await appendNext(jobId, [1], 0);
      const stale = store.append(jobId, [testEvent(jobId, 2)], { expectedPosition: 0, commitId: `${jobId}-b` });
      await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(stale).rejects.toMatchObject({ jobId, expectedPosition: 0 });
      const ahead = store.append(jobId, [testEvent(jobId, 2)], { expectedPosition: first + 1_000, commitId: `${jobId}-c` });
      await expect(ahead).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await store.readJob(jobId)).map((commit) => commit.position)).toEqual([first]);
    });

    it('lets exactly one of many concurrent appends after the same commit win', async () => {
      const jobId = nextJobId();
      const first = await appendNext(jobId, [1], 0);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          store.append(jobId, [testEvent(jobId, 2)], { expectedPosition: first, commitId: `${jobId}-${i + 1}` }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
      expect((await store.readJob(jobId)).map((commit) => commit.version)).toEqual([1, 2]);
    });

    it('drops a retried append of the same commit id and reports the first position, even after the job moved on', async () => {
      const jobId = nextJobId();
      const first = await store.append(jobId, [testEvent(jobId, 1)], { expectedPosition: 0, commitId: `${jobId}-same` });
      const retry = await store.append(jobId, [testEvent(jobId, 1)], { expectedPosition: 0, commitId: `${jobId}-same` });
      expect(retry).toEqual({ position: first.position, duplicate: true });
      await appendNext(jobId, [2], first.position);
      const late = await store.append(jobId, [testEvent(jobId, 1)], { expectedPosition: 0, commitId: `${jobId}-same` });
      expect(late).toEqual({ position: first.position, duplicate: true });
      expect(await store.readJob(jobId)).toHaveLength(2);
    });

    it('stores the events of one commit together, at one position', async () => {
      const jobId = nextJobId();
      const first = await appendNext(jobId, [1], 0);
      const events = [testEvent(jobId, 2, 'RecordsRejected'), testEvent(jobId, 3, 'Errored')];
      const pair = await store.append(jobId, events, { expectedPosition: first, commitId: `${jobId}-2` });
      const [read] = await store.readJob(jobId, { afterPosition: first });
      expect(read).toMatchObject({ position: pair.position, jobId, version: 3 });
      expect(eventsOf(read!)).toEqual(events);
      const commit = (await allCommits(store, first)).find((c) => c.position === pair.position)!;
      expect(commit).toEqual(read);
    });

    it('reads a job after a known position', async () => {
      const jobId = nextJobId();
      const positions: number[] = [];
      for (let version = 1; version <= 5; version++) positions.push(await appendNext(jobId, [version], positions.at(-1) ?? 0));
      expect((await store.readJob(jobId, { afterPosition: positions[2] })).map((c) => c.version)).toEqual([4, 5]);
      expect(await store.readJob(jobId, { afterPosition: positions[4] })).toEqual([]);
    });

    it('reads a long job whole and from the middle, between the commits of other jobs', async () => {
      const jobId = nextJobId();
      const other = nextJobId();
      const positions: number[] = [];
      let otherLast = 0;
      for (let version = 1; version <= 40; version++) {
        positions.push(await appendNext(jobId, [version], positions.at(-1) ?? 0));
        otherLast = await appendNext(other, [version], otherLast);
      }
      const all = await store.readJob(jobId);
      expect(all.map((c) => c.version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(all.map((c) => c.position)).toEqual(positions);
      expect(all.every((c) => c.jobId === jobId)).toBe(true);
      expect((await store.readJob(jobId, { afterPosition: positions[9] })).map((c) => c.version)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 11),
      );
      expect((await store.readJob(jobId, { afterPosition: positions[37] })).map((c) => c.position)).toEqual(positions.slice(38));
    });

    it('stops a job read after the first commit whose version header reaches toVersion, direct or through a consumer', async () => {
      const jobId = nextJobId();
      const positions = [await appendNext(jobId, [1], 0)];
      positions.push(await appendNext(jobId, [2, 3], positions[0]!));
      for (let version = 4; version <= 40; version++) positions.push(await appendNext(jobId, [version], positions.at(-1)!));
      expect((await store.readJob(jobId, { toVersion: 2 })).map((c) => c.version)).toEqual([1, 3]);
      expect((await store.readJob(jobId, { afterPosition: positions[0], toVersion: 4 })).map((c) => c.version)).toEqual([3, 4]);
      expect((await store.readJob(jobId, { toVersion: 30 })).map((c) => c.version)).toEqual([
        1,
        ...Array.from({ length: 28 }, (_, i) => i + 3),
      ]);
      expect(await store.readJob(jobId, { toVersion: 1_000 })).toHaveLength(39);
    });

    it('delivers every commit in position order from a position, then follows live', async () => {
      const jobA = nextJobId();
      const jobB = nextJobId();
      const start = await store.headPosition();
      const a1 = await appendNext(jobA, [1], 0);
      const b1 = await appendNext(jobB, [1], 0);
      const caughtUp = await allCommits(store, start);
      expect(caughtUp.map((c) => [c.jobId, c.position])).toEqual([
        [jobA, a1],
        [jobB, b1],
      ]);
      expect(await store.headPosition()).toBe(b1);

      const controller = new AbortController();
      const live = collectCommits(store.subscribe({ afterPosition: b1, live: true, signal: controller.signal }), 2);
      await appendNext(jobA, [2], a1);
      await appendNext(jobB, [2, 3], b1);
      const followed = await live;
      controller.abort();
      expect(followed.map((c) => [c.jobId, c.version, eventsOf(c).map((event) => event.version)])).toEqual([
        [jobA, 2, [2]],
        [jobB, 3, [2, 3]],
      ]);
      expect(followed[0]!.position).toBeLessThan(followed[1]!.position);
    });

    it('hands over what anyone put on a job subject as it is, and takes the next append after it', async () => {
      const jobId = nextJobId();
      const first = await appendNext(jobId, [1], 0);
      const garbage = await subject.publishRaw(jobId, 'this is not json', null);
      const lying = await subject.publishRaw(jobId, JSON.stringify([testEvent('someone-else', 50)]), 50);
      const next = await appendNext(jobId, [2], lying);
      const expected = [
        { position: first, jobId, version: 1, events: expect.any(String) },
        { position: garbage, jobId, version: null, events: 'this is not json' },
        { position: lying, jobId, version: 50, events: JSON.stringify([testEvent('someone-else', 50)]) },
        { position: next, jobId, version: 2, events: expect.any(String) },
      ];
      expect(await store.readJob(jobId)).toEqual(expected);
      expect(await store.readJob(jobId, { afterPosition: first })).toEqual(expected.slice(1));
      expect((await allCommits(store, first - 1)).filter((commit) => commit.jobId === jobId)).toEqual(expected);
    });

    it('ends a live subscription when its signal aborts', async () => {
      const controller = new AbortController();
      const head = await store.headPosition();
      const done = collect(store.subscribe({ afterPosition: head, live: true, signal: controller.signal }));
      setTimeout(() => controller.abort(), 100);
      await expect(done).resolves.toEqual([]);
    });
  });
}
