import { describe, expect, it } from 'vitest';
import type { JobStatus } from '#contracts';
import { ExecutorLeases } from './executor-leases.js';

const claimed = (jobId: string, version: number, executor = 'worker-1', leaseMs = 2_000) => ({
  jobId,
  version,
  type: 'Claimed' as const,
  data: { executor, leaseMs },
});
const ended = (jobId: string, version: number, type: 'Started' | 'Paused' | 'Cancelled' | 'Finished' | 'Errored' | 'ServerShutdown') => ({
  jobId,
  version,
  type,
  data: {},
});
const listed = (jobId: string, version: number, executor: string | null, status: JobStatus = 'running') => ({
  jobId,
  version,
  status,
  executor,
  leaseMs: executor === null ? null : 3_000,
});

describe('ExecutorLeases', () => {
  it('expires a claim once its executor has not been heard for its lease, counting from when the claim became known', () => {
    const leases = new ExecutorLeases();
    leases.applyEvent(claimed('job-1', 3), 1_000);
    expect(leases.expired(3_000)).toEqual([]);
    expect(leases.expired(3_001)).toEqual([
      { jobId: 'job-1', executor: 'worker-1', leaseMs: 2_000, claimVersion: 3, knownAt: 1_000, lastHeardAt: 1_000 },
    ]);
  });

  it("keeps a claim while its executor's heartbeats come, and expires it a lease after the last", () => {
    const leases = new ExecutorLeases();
    leases.applyEvent(claimed('job-1', 3), 0);
    for (let now = 600; now <= 6_000; now += 600) {
      leases.heardFrom('worker-1', now);
      expect(leases.expired(now + 100)).toEqual([]);
    }
    expect(leases.expired(8_000)).toEqual([]);
    expect(leases.expired(8_001)).toMatchObject([{ jobId: 'job-1', lastHeardAt: 6_000 }]);
  });

  it("is not kept alive by another executor's heartbeats", () => {
    const leases = new ExecutorLeases();
    leases.applyEvent(claimed('job-1', 3), 0);
    leases.heardFrom('worker-2', 2_500);
    expect(leases.expired(2_500)).toMatchObject([{ jobId: 'job-1', executor: 'worker-1' }]);
  });

  it.each(['Started', 'Paused', 'Cancelled', 'Finished', 'Errored', 'ServerShutdown'] as const)(
    'stops watching a claim once %s',
    (type) => {
      const leases = new ExecutorLeases();
      leases.applyEvent(claimed('job-1', 3), 0);
      leases.applyEvent(ended('job-1', 4, type), 0);
      expect(leases.expired(10_000)).toEqual([]);
      expect(leases.held()).toEqual([]);
    },
  );

  it('takes the claims of the executing jobs listed at startup, each with a full lease from then', () => {
    const leases = new ExecutorLeases();
    leases.applyListed(listed('job-1', 7, 'worker-1'), 5_000);
    leases.applyListed(listed('job-2', 2, null), 5_000);
    leases.applyListed(listed('job-3', 9, 'worker-2', 'pausing'), 5_000);
    expect(leases.held().map((claim) => [claim.jobId, claim.executor, claim.leaseMs, claim.knownAt])).toEqual([
      ['job-1', 'worker-1', 3_000, 5_000],
      ['job-3', 'worker-2', 3_000, 5_000],
    ]);
    expect(leases.expired(8_000)).toEqual([]);
    expect(leases.expired(8_001).map((claim) => claim.jobId)).toEqual(['job-1', 'job-3']);
  });

  it('lets the events win over an older listing, in either order, until the list is read', () => {
    const leases = new ExecutorLeases();
    // The events said the claim ended; the list, read from before, still shows it.
    leases.applyEvent(ended('job-1', 8, 'ServerShutdown'), 0);
    leases.applyListed(listed('job-1', 7, 'worker-1'), 0);
    // The list showed a claim; a later event ends it.
    leases.applyListed(listed('job-2', 4, 'worker-1'), 0);
    leases.applyEvent(ended('job-2', 5, 'Finished'), 0);
    expect(leases.held()).toEqual([]);
    leases.listed();
    leases.applyListed(listed('job-3', 4, 'worker-1'), 0);
    expect(leases.held()).toEqual([]);
  });

  it('forgets a claim it was told to, but not a newer claim of the same job', () => {
    const leases = new ExecutorLeases();
    leases.applyEvent(claimed('job-1', 3), 0);
    const [first] = leases.expired(5_000);
    leases.applyEvent(ended('job-1', 4, 'ServerShutdown'), 0);
    leases.applyEvent(ended('job-1', 5, 'Started'), 0);
    leases.applyEvent(claimed('job-1', 6, 'worker-2'), 5_000);
    leases.forget(first!);
    expect(leases.held()).toMatchObject([{ jobId: 'job-1', executor: 'worker-2', claimVersion: 6 }]);
    leases.forget({ jobId: 'job-1', claimVersion: 6 });
    expect(leases.held()).toEqual([]);
  });
});
