import { describe, expect, it } from 'vitest';
import { commandSchemas, MAX_REJECTS_PER_COMMAND } from './commands.js';

const rejectOf = (count: number) => ({
  jobId: 'job-1',
  records: Array.from({ length: count }, (_, i) => ({ line: i + 1, reason: 'bad email', record: { email: 'x' } })),
});

describe('reject', () => {
  it('carries at most 1,000 records', () => {
    expect(MAX_REJECTS_PER_COMMAND).toBe(1_000);
    expect(commandSchemas.reject.safeParse(rejectOf(MAX_REJECTS_PER_COMMAND)).success).toBe(true);
  });

  it('refuses more, saying to send the others in further reject commands', () => {
    const parsed = commandSchemas.reject.safeParse(rejectOf(MAX_REJECTS_PER_COMMAND + 1));
    expect(parsed.error?.issues).toMatchObject([
      { path: ['records'], message: 'at most 1000 records per reject command: send the others in further reject commands' },
    ]);
  });
});

describe('a value that is none of the valid ones', () => {
  it('names the valid kinds and log levels', () => {
    expect(commandSchemas.create.safeParse({ label: 'x', kind: 'upload' }).error?.issues).toMatchObject([
      { path: ['kind'], message: '"upload" is not a job kind; use one of import, export' },
    ]);
    expect(commandSchemas.log.safeParse({ jobId: 'job-1', level: 'debug', message: 'x' }).error?.issues).toMatchObject([
      { path: ['level'], message: '"debug" is not a log level; use one of info, warning, error' },
    ]);
  });
});
