import { describe, expect, it } from 'vitest';
import { describeProgress, formatDuration, jobDuration } from './format.js';

describe('durations and progress in words', () => {
  it('writes durations as a clock does', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45_999)).toBe('45 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(7_385_000)).toBe('2 h 03 min 05 s');
    expect(formatDuration(-5)).toBe('0 s');
  });

  it('measures a job from its start to its end, to now while it executes, to its last change while it waits', () => {
    const job = { startedAt: '2026-12-01T10:00:00.000Z', endedAt: null, updatedAt: '2026-12-01T10:00:05.000Z' };
    const now = Date.parse('2026-12-01T10:00:10.000Z');
    expect(jobDuration({ ...job, status: 'editing', startedAt: null }, now)).toBeNull();
    expect(jobDuration({ ...job, status: 'finished', endedAt: '2026-12-01T10:01:30.000Z' }, now)).toBe(90_000);
    expect(jobDuration({ ...job, status: 'running' }, now)).toBe(10_000);
    expect(jobDuration({ ...job, status: 'pausing' }, now)).toBe(10_000);
    expect(jobDuration({ ...job, status: 'paused' }, now)).toBe(5_000);
  });

  it('says the progress with or without a known total', () => {
    expect(describeProgress({ processed: 1234, total: 5000, progress: 24.68 })).toBe('1,234 of 5,000 processed (24%)');
    expect(describeProgress({ processed: 7, total: null, progress: null })).toBe('7 processed, total not known yet');
  });
});
