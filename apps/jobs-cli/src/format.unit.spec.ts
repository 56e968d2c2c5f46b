import { describe, expect, it } from 'vitest';
import { REJECTS_CSV_HEADER, type JobEvent } from '#contracts';
import { eventLine, jobDetails, jobRow, jobTable, type ListedJob, logLine, rejectsCsvRows, statusText } from './format.js';
import { progressLine } from './progress.js';

const job: ListedJob = {
  jobId: 'nightly-1',
  label: 'Nightly contacts import',
  kind: 'import',
  status: 'running',
  statusLabel: 'Execution in progress',
  createdAt: '2024-03-01T09:00:00.000Z',
  createdBy: 'alice',
  startedAt: '2024-03-01T09:00:05.000Z',
  endedAt: null,
  updatedAt: '2024-03-01T09:01:00.000Z',
  processed: 500,
  total: 1000,
  rejected: 3,
  progress: 50,
  warning: true,
  lastError: null,
  executor: 'executor-1',
  leaseMs: 15_000,
  version: 7,
};

describe('job rows', () => {
  it('shows the source’s status label, the progress, the rejects, and marks a warning', () => {
    expect(jobRow(job)).toEqual([
      'nightly-1',
      'Nightly contacts import',
      'import',
      'Execution in progress !',
      '500/1,000 (50%)',
      '3',
      '2024-03-01 09:00:00',
      'alice',
    ]);
    expect(jobRow({ ...job, total: null, progress: null, warning: false })[3]).toBe('Execution in progress');
    expect(jobRow({ ...job, total: null, progress: null })[4]).toBe('500');
  });

  it('says a running job waits for an executor while none has it; no executor field says nothing', () => {
    expect(statusText({ ...job, executor: null })).toBe('Execution in progress (waiting for an executor)');
    expect(statusText({ ...job, executor: 'worker-1' })).toBe('Execution in progress');
    // A service from before claims: no executor field.
    const { executor: _, ...unreported } = job;
    expect(statusText(unreported)).toBe('Execution in progress');
    expect(statusText({ ...job, status: 'paused', executor: null })).toBe('Paused');
    expect(jobDetails({ ...job, executor: 'worker-1' })).toMatch(/^Executor: +worker-1$/m);
  });

  it('puts the rows in a table with the page’s count and the next cursor', () => {
    const table = jobTable([job], { total: 51, nextCursor: 'abc' });
    expect(table).toContain('Nightly contacts import');
    expect(table).toMatch(/Job +│ Label/);
    expect(table.split('\n').at(-1)).toBe('1 of 51 jobs; next page: --cursor abc');
  });

  it('shows a job’s last error with its code', () => {
    const failed = {
      ...job,
      status: 'finished_with_error' as const,
      lastError: { message: 'too many rejects', code: 'REJECT_LIMIT_EXCEEDED' },
    };
    expect(jobDetails(failed)).toMatch(/^Status: +Finished with error$/m);
    expect(jobDetails(failed)).toMatch(/^Last error: +too many rejects \(REJECT_LIMIT_EXCEEDED\)$/m);
  });
});

describe('lines', () => {
  it('a log entry: time, level, message', () => {
    expect(logLine({ at: '2024-03-01T09:00:05.123Z', level: 'warning', message: 'slow disk' })).toBe(
      '2024-03-01 09:00:05  warning  slow disk',
    );
  });

  it('an event: time, job and what happened, for known and newer event types', () => {
    const base = { eventId: 'j:3', schemaVersion: 1, jobId: 'j', version: 3, at: '2024-03-01T09:00:05.000Z', position: 9 };
    const meta = { commandId: 'c', correlationId: 'c', causationId: 'c', actor: 'executor-1' };
    const rejected = {
      ...base,
      ...meta,
      type: 'RecordsRejected',
      data: { records: [{ line: 7, reason: 'bad', record: 'x' }], rejectedTotal: 4 },
    };
    expect(eventLine(rejected as JobEvent)).toBe('2024-03-01 09:00:05  j  1 record rejected (4 in all)');
    const claimed = { ...base, ...meta, type: 'Claimed', data: { executor: 'worker-1', leaseMs: 15_000 } };
    expect(eventLine(claimed as unknown as JobEvent)).toBe('2024-03-01 09:00:05  j  Claimed by worker-1');
  });
});

describe('rejects as CSV', () => {
  it('has the service’s header and quotes fields with commas, quotes or line breaks; a string record as it is, any other as JSON', () => {
    expect(REJECTS_CSV_HEADER).toBe('line,reason,record,at\r\n');
    const rows = rejectsCsvRows([
      { line: 7, reason: 'bad email', record: { email: 'x', name: 'A "B"' }, at: '2024-03-01T09:00:05.000Z' },
      { line: 9, reason: 'too long,\nreally', record: 'plain text', at: '2024-03-01T09:00:06.000Z' },
    ]);
    expect(rows).toBe(
      '7,bad email,"{""email"":""x"",""name"":""A \\""B\\""""}",2024-03-01T09:00:05.000Z\r\n' +
        '9,"too long,\nreally",plain text,2024-03-01T09:00:06.000Z\r\n',
    );
  });
});

describe('the progress bar', () => {
  it('fills with the ratio done, and shows the count alone while the total is unknown', () => {
    const state = { processed: 600, total: 1000, rejected: 3, status: 'Execution in progress' };
    expect(progressLine(state, 10)).toBe('[██████░░░░] 60% | 600/1,000 | 3 rejected | Execution in progress');
    expect(progressLine({ ...state, total: null }, 10)).toBe('[░░░░░░░░░░] 600 | 3 rejected | Execution in progress');
    expect(progressLine({ ...state, processed: 1200 }, 4)).toBe('[████] 100% | 1,200/1,000 | 3 rejected | Execution in progress');
  });
});
