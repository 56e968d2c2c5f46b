import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppliedPosition, PositionTimeout } from './applied-position.js';

/** Where a wait stands: still pending, resolved, or rejected with its error. */
function watch(wait: Promise<void>) {
  const outcome: { settled: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { settled: 'pending' };
  wait.then(
    () => {
      outcome.settled = 'resolved';
    },
    (error: unknown) => {
      outcome.settled = 'rejected';
      outcome.error = error;
    },
  );
  return outcome;
}

/** Lets the promises settled so far run their callbacks. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('AppliedPosition: queries waiting to read their own writes', () => {
  it('resolves at once for a position already applied', async () => {
    const applied = new AppliedPosition(5);
    const wait = watch(applied.waitFor(5, 1_000));
    await settle();
    expect(wait.settled).toBe('resolved');
    expect(applied.waiting).toBe(0);
  });

  it('resolves a wait when the read models reach its position, not before', async () => {
    const applied = new AppliedPosition(3);
    const wait = watch(applied.waitFor(7, 1_000));
    applied.advanceTo(6);
    await settle();
    expect(wait.settled).toBe('pending');
    applied.advanceTo(7);
    await settle();
    expect(wait.settled).toBe('resolved');
    expect(applied.position).toBe(7);
  });

  it('lets go of each of several waits as its own position is reached, and keeps the others waiting', async () => {
    const applied = new AppliedPosition();
    const waits = [4, 2, 9, 4].map((position) => watch(applied.waitFor(position, 1_000)));
    applied.advanceTo(4);
    await settle();
    expect(waits.map((wait) => wait.settled)).toEqual(['resolved', 'resolved', 'pending', 'resolved']);
    expect(applied.waiting).toBe(1);
    applied.advanceTo(12);
    await settle();
    expect(waits[2]!.settled).toBe('resolved');
    expect(applied.waiting).toBe(0);
  });

  it('never goes back: a lower position changes nothing', () => {
    const applied = new AppliedPosition(8);
    applied.advanceTo(5);
    expect(applied.position).toBe(8);
  });

  it('rejects a wait not satisfied in time with PositionTimeout naming the position wanted and the one reached', async () => {
    const applied = new AppliedPosition(2);
    const wait = watch(applied.waitFor(10, 500));
    applied.advanceTo(6);
    await vi.advanceTimersByTimeAsync(499);
    expect(wait.settled).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(wait.settled).toBe('rejected');
    expect(wait.error).toBeInstanceOf(PositionTimeout);
    expect(wait.error).toMatchObject({ wanted: 10, reached: 6, message: 'the read models reached position 6, not 10, in time' });
  });

  it('forgets a wait that timed out, and keeps the others', async () => {
    const applied = new AppliedPosition();
    const short = watch(applied.waitFor(10, 100));
    const long = watch(applied.waitFor(10, 1_000));
    expect(applied.waiting).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(short.settled).toBe('rejected');
    expect(applied.waiting).toBe(1);
    applied.advanceTo(10);
    await settle();
    expect(long.settled).toBe('resolved');
    expect(applied.waiting).toBe(0);
  });

  it('stops the timer of a wait it resolves', async () => {
    const applied = new AppliedPosition();
    const wait = watch(applied.waitFor(3, 1_000));
    expect(vi.getTimerCount()).toBe(1);
    applied.advanceTo(3);
    await settle();
    expect(wait.settled).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });
});
