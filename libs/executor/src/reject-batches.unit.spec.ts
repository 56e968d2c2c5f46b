import { describe, expect, it } from 'vitest';
import { rejectedRecordSchema } from '#contracts';
import { fitRecord, rejectCommandId, splitRejects } from './reject-batches.js';

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('reject batches', () => {
  it('keeps records whole and in order, each batch within the byte budget', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ line: i + 1, reason: 'bad', record: 'é'.repeat(300 + i) }));
    const batches = splitRejects(records, 4_096);
    expect(batches.flat()).toEqual(records);
    for (const batch of batches) expect(size(batch)).toBeLessThanOrEqual(4_096);
    // The same records give the same split: keyed command ids name the same batches in every run.
    expect(splitRejects(records, 4_096)).toEqual(batches);
  });

  it('cuts a record too large for any command, escapes included, into one the service takes', () => {
    const record = { text: '"\n\u0001'.repeat(20_000) };
    const fitted = fitRecord({ line: 3, reason: 'not a contact', record }, 8_192);
    expect(size(fitted)).toBeLessThanOrEqual(8_192);
    expect(fitted.line).toBe(3);
    expect(fitted.reason).toMatch(/^not a contact \(record cut to fit the payload limit: it was \d+ bytes of JSON\)$/);
    expect(JSON.stringify(record).startsWith(fitted.record as string)).toBe(true);
    expect(rejectedRecordSchema.safeParse(fitted).success).toBe(true);
  });

  it('cuts a reason over 2,000 characters, and leaves a record that fits as it is', () => {
    const record = { line: 1, reason: 'x'.repeat(5_000), record: { id: 1 } };
    const fitted = fitRecord(record, 100_000);
    expect(fitted.reason).toHaveLength(2_000);
    expect(rejectedRecordSchema.safeParse(fitted).success).toBe(true);
    const small = { line: 2, reason: 'bad', record: null };
    expect(fitRecord(small, 100_000)).toBe(small);
  });

  it('names keyed batches <key>:<i>, hashing keys too long for a command id', () => {
    expect(rejectCommandId('job-1:lines:1-500', 2)).toBe('job-1:lines:1-500:2');
    const long = rejectCommandId('k'.repeat(500), 0);
    expect(long).toMatch(/^[0-9a-f]{64}:0$/);
    expect(rejectCommandId('k'.repeat(500), 0)).toBe(long);
  });
});
