import { describe, expect, it } from 'vitest';
import { commandSchemas, MAX_CHECKPOINT_BYTES, MAX_REJECTS_PER_COMMAND } from './commands.js';

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

describe('claim', () => {
  it('takes an executor id of one subject token and a lease of 1 s to 10 min, none by default', () => {
    expect(commandSchemas.claim.parse({ jobId: 'job-1', executor: 'worker-1@host_a' })).toEqual({
      jobId: 'job-1',
      executor: 'worker-1@host_a',
    });
    expect(commandSchemas.claim.safeParse({ jobId: 'job-1', executor: 'x'.repeat(200), leaseMs: 1_000 }).success).toBe(true);
    expect(commandSchemas.claim.safeParse({ jobId: 'job-1', executor: 'w', leaseMs: 600_000 }).success).toBe(true);
  });

  it.each(['', 'worker 1', 'worker.1', 'worker*', 'worker>', 'x'.repeat(201)])(
    'refuses the executor id %j, saying what one is',
    (executor) => {
      expect(commandSchemas.claim.safeParse({ jobId: 'job-1', executor }).error?.issues).toMatchObject([
        { path: ['executor'], message: expect.stringContaining('one NATS subject token') },
      ]);
    },
  );

  it.each([999, 600_001, 1500.5])('refuses a lease of %j ms', (leaseMs) => {
    expect(commandSchemas.claim.safeParse({ jobId: 'job-1', executor: 'w', leaseMs }).error?.issues).toMatchObject([{ path: ['leaseMs'] }]);
  });

  it('needs an executor', () => {
    expect(commandSchemas.claim.safeParse({ jobId: 'job-1' }).error?.issues).toMatchObject([{ path: ['executor'] }]);
  });
});

describe("the executor's commands", () => {
  it.each(['progress', 'log', 'reject', 'finish', 'fail', 'shutdown', 'mark-paused', 'mark-cancelled'] as const)(
    '%s may name the executor, as a subject token',
    (name) => {
      expect(commandSchemas[name].shape).toHaveProperty('executor');
      expect(commandSchemas[name].shape.executor.safeParse('worker-1').success).toBe(true);
      expect(commandSchemas[name].shape.executor.safeParse('worker.1').success).toBe(false);
    },
  );

  it.each(['start', 'pause', 'cancel', 'update'] as const)('%s does not', (name) => {
    expect(commandSchemas[name].safeParse({ jobId: 'job-1', label: 'x', executor: 'worker-1' }).success).toBe(false);
  });
});

describe('progress checkpoint', () => {
  const progress = (checkpoint: unknown) => commandSchemas.progress.safeParse({ jobId: 'job-1', processed: 1, checkpoint });

  it('is any JSON value up to 64 KiB', () => {
    for (const checkpoint of [null, 0, 'line 42', [1, 2], { line: 42, key: ['a', 1] }]) {
      expect(progress(checkpoint)).toMatchObject({ success: true, data: { checkpoint } });
    }
    // The JSON of a string is the string and its two quotes.
    expect(progress('x'.repeat(MAX_CHECKPOINT_BYTES - 2)).success).toBe(true);
  });

  it('is refused over 64 KiB as JSON in UTF-8, saying to keep only where the run is', () => {
    expect(progress('x'.repeat(MAX_CHECKPOINT_BYTES - 1)).error?.issues).toMatchObject([
      { path: ['checkpoint'], message: expect.stringMatching(/at most 65536 bytes.*this one 65537.*what a resumed run needs/) },
    ]);
    expect(progress('é'.repeat(MAX_CHECKPOINT_BYTES / 2)).success).toBe(false);
  });
});
