import { describe, expect, it } from 'vitest';
import { decodeChange, decodeCommit } from './commit-decoding.js';

const event = (version: number, type: string, data: unknown, jobId = 'job-1') => ({
  eventId: `${jobId}:${version}`,
  type,
  schemaVersion: 1,
  jobId,
  version,
  at: '2024-06-01T10:00:00.000Z',
  commandId: 'c-1',
  correlationId: 'c-1',
  causationId: 'c-1',
  actor: 'executor-1',
  data,
});

describe('decodeCommit', () => {
  it('gives each event of a commit the commit’s position', () => {
    const rejected = event(5, 'RecordsRejected', {
      records: [{ line: 7, reason: 'bad email', record: { email: 'x' } }],
      rejectedTotal: 101,
    });
    const errored = event(6, 'Errored', { error: { message: 'too many rejects', code: 'REJECT_LIMIT_EXCEEDED' } });
    expect(decodeCommit('job-1', 42, JSON.stringify([rejected, errored]))).toEqual([
      { ...rejected, position: 42 },
      { ...errored, position: 42 },
    ]);
  });

  it('refuses what the service does not write: not JSON, no events, an unknown type, wrong data, another job’s event, a subject that names no job', () => {
    const started = event(2, 'Started', { previousStatus: 'editing' });
    for (const [jobId, body] of [
      ['job-1', '{"truncated":'],
      ['job-1', '[]'],
      ['job-1', JSON.stringify(started)],
      ['job-1', JSON.stringify([{ ...started, type: 'Exploded' }])],
      ['job-1', JSON.stringify([{ ...started, data: { previousStatus: 'nowhere' } }])],
      ['job-1', JSON.stringify([{ ...started, extra: true }])],
      ['job-1', JSON.stringify([started, event(3, 'Paused', {}, 'job-2')])],
      ['job-1.more', JSON.stringify([started])],
    ] as const) {
      expect(decodeCommit(jobId, 9, body), body).toBeNull();
    }
  });
});

describe('decodeChange', () => {
  it('tells the job, the position, the version and the event types of a commit from its headers', () => {
    expect(decodeChange('job-1', 42, { types: 'RecordsRejected,Errored', jobId: 'job-1', version: '7' })).toEqual({
      jobId: 'job-1',
      position: 42,
      version: 7,
      types: ['RecordsRejected', 'Errored'],
    });
  });

  it('refuses headers the service does not write: none, another job than the subject names, an unknown type, a bad version', () => {
    for (const headers of [
      { types: undefined, jobId: undefined, version: undefined },
      { types: '', jobId: 'job-1', version: '3' },
      { types: 'Started', jobId: '', version: '3' },
      { types: 'Started', jobId: 'job-2', version: '3' },
      { types: 'Started,Exploded', jobId: 'job-1', version: '3' },
      { types: 'Started,', jobId: 'job-1', version: '3' },
      { types: 'Started', jobId: 'job-1', version: undefined },
      { types: 'Started', jobId: 'job-1', version: '0' },
      { types: 'Started', jobId: 'job-1', version: '-2' },
      { types: 'Started', jobId: 'job-1', version: '2.5' },
      { types: 'Started', jobId: 'job-1', version: '1e3' },
      { types: 'Started', jobId: 'job-1', version: '99999999999999999999' },
    ]) {
      expect(decodeChange('job-1', 9, headers), JSON.stringify(headers)).toBeNull();
    }
  });
});
