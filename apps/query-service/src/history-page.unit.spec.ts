import { describe, expect, it } from 'vitest';
import type { JobEvent } from '#contracts';
import { decodeHistoryCursor, encodeHistoryCursor, pageLength } from './history-page.js';

/** Events of versions `from` to `to`, each about `size` bytes of JSON. */
function events(from: number, to: number, size = 100): JobEvent[] {
  return Array.from(
    { length: to - from + 1 },
    (_, i) =>
      ({
        version: from + i,
        type: 'MessageLogged',
        data: { level: 'info', message: 'x'.repeat(size) },
      }) as unknown as JobEvent,
  );
}

describe('pageLength', () => {
  it('is at most limit', () => {
    expect(pageLength(events(1, 30), 12, Infinity)).toBe(12);
    expect(pageLength(events(25, 25), 12, Infinity)).toBe(1);
    expect(pageLength([], 12, Infinity)).toBe(0);
  });

  it('ends a page before the events pass the byte budget, but always holds one', () => {
    expect(pageLength(events(1, 10, 1_000), 1_000, 3_500)).toBe(3);
    expect(pageLength(events(4, 10, 1_000), 1_000, 10)).toBe(1);
  });
});

describe('history cursors', () => {
  it('are opaque, and refuse what a history page did not make', () => {
    expect(decodeHistoryCursor(encodeHistoryCursor({ asOf: 9, after: 4, position: 77 }))).toEqual({ asOf: 9, after: 4, position: 77 });
    expect(decodeHistoryCursor(encodeHistoryCursor({ asOf: null, after: 4, position: 77 }))).toEqual({
      asOf: null,
      after: 4,
      position: 77,
    });
    const made = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
    const refused = [made([-1, 2]), made([1, 0]), made([1]), made([5, -1, 3]), made([5, 5, 3]), made([5, 1, 0]), made([5, 1.5, 3])];
    for (const cursor of ['not a cursor', ...refused]) {
      expect(decodeHistoryCursor(cursor)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', issues: [{ path: 'cursor' }] } });
    }
  });
});
