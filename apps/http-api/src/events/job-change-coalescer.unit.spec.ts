import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobEventType, JobSummary } from '#contracts';
import type { JobChange } from '#client';
import { JobChangeCoalescer, type JobChangeMessage } from './job-change-coalescer.js';

const change = (jobId: string, position: number, type: JobEventType = 'ProgressReported'): JobChange => ({
  jobId,
  position,
  version: position,
  types: [type],
});

function coalescer(summaryAt: (jobId: string, minPosition: number) => Promise<JobSummary>) {
  const sent: JobChangeMessage[] = [];
  const errors: unknown[] = [];
  const feed = new JobChangeCoalescer({
    intervalMs: 250,
    retryMs: 1_000,
    summaryAt,
    send: (message) => sent.push(message),
    onError: (error) => errors.push(error),
  });
  return { feed, sent, errors };
}

/** A summary that says at which position it was read. */
const summaryAtPosition = async (jobId: string, minPosition: number) => ({ jobId, version: minPosition }) as JobSummary;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('JobChangeCoalescer', () => {
  it("waits an interval for a job's changes, folds them into one message, and always sends the last state", async () => {
    const { feed, sent } = coalescer(summaryAtPosition);
    feed.add(change('a', 1, 'Created'));
    for (let position = 2; position <= 100; position++) feed.add(change('a', position));
    await vi.advanceTimersByTimeAsync(249);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      { id: 100, jobId: 'a', position: 100, types: ['Created', 'ProgressReported'], job: { jobId: 'a', version: 100 } },
    ]);
    expect(feed.idle).toBe(true);
    // The next change waits its own interval: at most one message per job and interval.
    feed.add(change('a', 101, 'Finished'));
    await vi.advanceTimersByTimeAsync(249);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.at(-1)).toMatchObject({ id: 101, position: 101, types: ['Finished'], job: { version: 101 } });
  });

  it('keeps the resume point before a change still being read, so that a reconnection from it misses nothing', async () => {
    let release!: () => void;
    const slowA = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { feed, sent } = coalescer(async (jobId, minPosition) => {
      if (jobId === 'a') await slowA;
      return summaryAtPosition(jobId, minPosition);
    });
    feed.add(change('a', 1));
    feed.add(change('b', 2));
    await vi.advanceTimersByTimeAsync(250);
    // b went out first; a's change at 1 is still being read, so the resume point stays at 0.
    expect(sent.map(({ jobId, id }) => ({ jobId, id }))).toEqual([{ jobId: 'b', id: 0 }]);
    // A change of a job being read waits for the next interval, after the read.
    feed.add(change('a', 3));
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.at(-1)).toMatchObject({ jobId: 'a', id: 2, position: 1 });
    await vi.advanceTimersByTimeAsync(250);
    expect(sent.at(-1)).toMatchObject({ jobId: 'a', id: 3, position: 3 });
  });

  it("tries a job's summary again when reading it fails, with the changes that came meanwhile", async () => {
    let failures = 1;
    const { feed, sent, errors } = coalescer(async (jobId, minPosition) => {
      if (failures-- > 0) throw new Error('TIMEOUT');
      return summaryAtPosition(jobId, minPosition);
    });
    feed.add(change('a', 1, 'Created'));
    await vi.advanceTimersByTimeAsync(250);
    feed.add(change('a', 2, 'Started'));
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([{ id: 2, jobId: 'a', position: 2, types: ['Created', 'Started'], job: { jobId: 'a', version: 2 } }]);
  });

  it('sends nothing once closed', async () => {
    const { feed, sent } = coalescer(summaryAtPosition);
    feed.add(change('a', 1));
    feed.close();
    feed.add(change('a', 2));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([]);
  });
});
