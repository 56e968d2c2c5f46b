import { describe, expect, it } from 'vitest';
import type { JobEvent } from '#contracts';
import { describeEvent } from './events.js';

const event = (type: string, data: unknown) => ({ type, data }) as JobEvent;

describe("a history's events in a line", () => {
  it('says what each event did', () => {
    expect(describeEvent(event('Created', { label: 'Contacts', kind: 'import', definition: {}, rejectPolicy: { maxRejects: 100 } }))).toBe(
      'Created "Contacts", an import job, stops after 100 rejects',
    );
    expect(describeEvent(event('Started', { previousStatus: 'paused' }))).toBe('Started (was "Paused")');
    expect(describeEvent(event('ProgressReported', { processed: 5, total: 10 }))).toBe('Progress: 5 of 10 processed');
    expect(describeEvent(event('RecordsRejected', { records: [{}], rejectedTotal: 3 }))).toBe('Rejected 1 record (3 in all)');
    expect(describeEvent(event('Errored', { error: { message: 'disk full', code: 'IO' } }))).toBe('Failed: disk full (IO)');
  });
});
