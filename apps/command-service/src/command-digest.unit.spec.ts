import { describe, expect, it } from 'vitest';
import type { CommandBody, CommandName } from '#contracts';
import { commandDigest } from './command-digest.js';

const digest = (name: CommandName, body: Record<string, unknown>) => commandDigest(name, body as CommandBody);

describe('commandDigest', () => {
  const fail = { jobId: 'job-1', error: { message: 'disk full', code: 'ENOSPC' }, actor: 'executor' };

  it('is the same for the same command whatever the order of its fields, and whatever its commandId', () => {
    const reordered = { actor: 'executor', error: { code: 'ENOSPC', message: 'disk full' }, jobId: 'job-1' };
    expect(digest('fail', reordered)).toBe(digest('fail', fail));
    expect(digest('fail', { ...fail, commandId: 'c-1' })).toBe(digest('fail', { ...fail, commandId: 'c-2' }));
    expect(digest('fail', { ...fail, correlationId: undefined })).toBe(digest('fail', fail));
  });

  it('differs with the command name and with any other field of the body', () => {
    const base = digest('fail', fail);
    expect(digest('shutdown', fail)).not.toBe(base);
    for (const changed of [
      { ...fail, jobId: 'job-2' },
      { ...fail, actor: 'alice' },
      { ...fail, expectedVersion: 3 },
      { ...fail, correlationId: 'corr-1' },
      { ...fail, causationId: 'cause-1' },
      { ...fail, error: { message: 'disk full' } },
    ]) {
      expect(digest('fail', changed)).not.toBe(base);
    }
    const records = [
      { line: 1, reason: 'a', record: {} },
      { line: 2, reason: 'b', record: {} },
    ];
    expect(digest('reject', { jobId: 'job-1', records })).not.toBe(digest('reject', { jobId: 'job-1', records: [...records].reverse() }));
  });

  it('is 22 base64url characters', () => {
    expect(digest('start', { jobId: 'job-1' })).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
