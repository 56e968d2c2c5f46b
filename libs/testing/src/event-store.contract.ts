import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeCommit, type JobEventCommit, type UnpositionedJobEvent } from '#contracts';
import { ConcurrencyError, type EventStore } from '#event-store';

export interface ContractSubject {
  store: EventStore;
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

/** The commits a subscription delivers, up to `max`. */
export async function collect<Commit = JobEventCommit>(iterable: AsyncIterable<Commit>, max = Infinity): Promise<Commit[]> {
  const commits: Commit[] = [];
  for await (const commit of iterable) {
    commits.push(commit);
    if (commits.length >= max) break;
  }
  return commits;
}

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

    it('appends a new job at version 0 and reads it back with its position', async () => {
      const jobId = nextJobId();
      const result = await store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-1` });
      expect(result.duplicate).toBe(false);
      expect(result.position).toBeGreaterThan(0);
      const events = await store.readJob(jobId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ jobId, version: 1, position: result.position });
      expect(await store.jobHead(jobId)).toEqual({ version: 1, position: result.position });
    });

    it('reads an unknown job as empty, at version 0', async () => {
      const jobId = nextJobId();
      expect(await store.readJob(jobId)).toEqual([]);
      expect(await store.jobHead(jobId)).toEqual({ version: 0, position: 0 });
    });

    it('refuses an append at a stale version and appends nothing', async () => {
      const jobId = nextJobId();
      await store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-a` });
      await expect(store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-b` })).rejects.toBeInstanceOf(
        ConcurrencyError,
      );
      await expect(store.append(jobId, [testEvent(jobId, 3)], { expectedVersion: 2, commitId: `${jobId}-c` })).rejects.toBeInstanceOf(
        ConcurrencyError,
      );
      expect((await store.readJob(jobId)).map((event) => event.version)).toEqual([1]);
    });

    it('lets exactly one of many concurrent appends at the same version win', async () => {
      const jobId = nextJobId();
      await store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-0` });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          store.append(jobId, [testEvent(jobId, 2)], { expectedVersion: 1, commitId: `${jobId}-${i + 1}` }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
      expect((await store.readJob(jobId)).map((event) => event.version)).toEqual([1, 2]);
    });

    it('drops a retried append of the same commit id and reports the first position', async () => {
      const jobId = nextJobId();
      const first = await store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-same` });
      const retry = await store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-same` });
      expect(retry).toEqual({ position: first.position, duplicate: true });
      expect(await store.readJob(jobId)).toHaveLength(1);
    });

    it('stores the events of one commit together, at one position', async () => {
      const jobId = nextJobId();
      await store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-1` });
      const pair = await store.append(jobId, [testEvent(jobId, 2, 'RecordsRejected'), testEvent(jobId, 3, 'Errored')], {
        expectedVersion: 1,
        commitId: `${jobId}-2`,
      });
      const events = await store.readJob(jobId, { afterVersion: 1 });
      expect(events.map((event) => [event.version, event.type, event.position])).toEqual([
        [2, 'RecordsRejected', pair.position],
        [3, 'Errored', pair.position],
      ]);
      const commits = await collect(store.subscribe({ afterPosition: pair.position - 1, live: false }));
      const commit = commits.find((c) => c.position === pair.position)!;
      expect(commit.events.map((event) => event.version)).toEqual([2, 3]);
      expect(commit.jobId).toBe(jobId);
    });

    it('reads a job after a version, also starting from a known position', async () => {
      const jobId = nextJobId();
      const positions: number[] = [];
      for (let version = 1; version <= 5; version++) {
        const result = await store.append(jobId, [testEvent(jobId, version)], {
          expectedVersion: version - 1,
          commitId: `${jobId}-${version}`,
        });
        positions.push(result.position);
      }
      expect((await store.readJob(jobId, { afterVersion: 3 })).map((e) => e.version)).toEqual([4, 5]);
      expect((await store.readJob(jobId, { afterVersion: 3, afterPosition: positions[2] })).map((e) => e.version)).toEqual([4, 5]);
      expect(await store.readJob(jobId, { afterVersion: 5 })).toEqual([]);
    });

    it('reads a long job whole and from the middle', async () => {
      const jobId = nextJobId();
      const positions: number[] = [];
      for (let version = 1; version <= 40; version++) {
        const result = await store.append(jobId, [testEvent(jobId, version)], {
          expectedVersion: version - 1,
          commitId: `${jobId}-${version}`,
        });
        positions.push(result.position);
      }
      expect((await store.readJob(jobId)).map((e) => e.version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect((await store.readJob(jobId, { afterVersion: 10, afterPosition: positions[9] })).map((e) => e.version)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 11),
      );
      expect((await store.readJob(jobId, { afterVersion: 30 })).map((e) => e.position)).toEqual(positions.slice(30));
    });

    it('delivers every commit in position order from a position, then follows live', async () => {
      const jobA = nextJobId();
      const jobB = nextJobId();
      const start = await store.headPosition();
      await store.append(jobA, [testEvent(jobA, 1)], { expectedVersion: 0, commitId: `${jobA}-1` });
      await store.append(jobB, [testEvent(jobB, 1)], { expectedVersion: 0, commitId: `${jobB}-1` });
      const caughtUp = await collect(store.subscribe({ afterPosition: start, live: false }));
      expect(caughtUp.map((c) => c.jobId)).toEqual([jobA, jobB]);
      expect(await store.headPosition()).toBe(caughtUp[1]!.position);

      const controller = new AbortController();
      const live = collect(store.subscribe({ afterPosition: caughtUp[1]!.position, live: true, signal: controller.signal }), 2);
      await store.append(jobA, [testEvent(jobA, 2)], { expectedVersion: 1, commitId: `${jobA}-2` });
      await store.append(jobB, [testEvent(jobB, 2)], { expectedVersion: 1, commitId: `${jobB}-2` });
      const followed = await live;
      controller.abort();
      expect(followed.map((c) => [c.jobId, c.events[0]!.version])).toEqual([
        [jobA, 2],
        [jobB, 2],
      ]);
      expect(followed[0]!.position).toBeLessThan(followed[1]!.position);
    });

    it('delivers the same commits undecoded, as JSON that decodeCommit reads back', async () => {
      const jobId = nextJobId();
      const start = await store.headPosition();
      await store.append(jobId, [testEvent(jobId, 1)], { expectedVersion: 0, commitId: `${jobId}-1` });
      await store.append(jobId, [testEvent(jobId, 2), testEvent(jobId, 3)], { expectedVersion: 1, commitId: `${jobId}-2` });
      const encoded = (await collect(store.subscribeEncoded({ afterPosition: start, live: false }))).flat();
      expect(encoded.every((commit) => typeof commit.events === 'string')).toBe(true);
      expect(encoded.map((commit) => decodeCommit(commit))).toEqual(await collect(store.subscribe({ afterPosition: start, live: false })));
      expect(encoded.map((commit) => decodeCommit(commit)).flatMap((c) => c.events.map((e) => [e.version, e.position]))).toEqual([
        [1, encoded[0]!.position],
        [2, encoded[1]!.position],
        [3, encoded[1]!.position],
      ]);
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
