import { describe, expect, it } from 'vitest';
import type { CommandBody, CommandName, JobEvent } from '#contracts';
import { evolve, type CommandContext } from '#domain';
import { JobStreams } from '#testing/job-streams';
import { isShown, logLine, type LogLine } from './job-log-lines.js';

const executor = { actor: 'executor-7' };

/** One job driven by the real domain; each command gives the log lines of its events. */
class Job {
  private readonly streams = new JobStreams();

  constructor(private readonly jobId = 'job-1') {}

  /** The log line of each event the command leads to, worded with the job's state after that event. */
  run<N extends CommandName>(name: N, body: Omit<CommandBody<N>, 'jobId'>, context: Partial<CommandContext> = {}): (LogLine | null)[] {
    let state = this.streams.state(this.jobId);
    const commit = this.streams.run(name, { ...body, jobId: this.jobId } as CommandBody<N>, context);
    return commit.events.map((event) => {
      state = evolve(state, event);
      if (!isShown(state)) throw new Error(`${event.type} left job ${this.jobId} without a status`);
      return logLine(event, state);
    });
  }

  /** The one line of a command that leads to one event. */
  line<N extends CommandName>(name: N, body: Omit<CommandBody<N>, 'jobId'>, context: Partial<CommandContext> = {}): LogLine | null {
    const lines = this.run(name, body, context);
    expect(lines).toHaveLength(1);
    return lines[0]!;
  }

  /** The last event the job's stream holds, for a test to vary. */
  lastEvent(): JobEvent {
    return this.streams.commits.at(-1)!.events.at(-1)!;
  }

  state() {
    const state = this.streams.state(this.jobId);
    if (!isShown(state)) throw new Error(`job ${this.jobId} does not exist`);
    return state;
  }
}

const info = (message: string): LogLine => ({ level: 'info', message });

function running(options: { maxRejects?: number | null } = {}): Job {
  const job = new Job();
  job.run('create', { label: 'Contacts', kind: 'import', rejectPolicy: { maxRejects: options.maxRejects ?? null } });
  job.run('start', {}, { actor: 'bob' });
  job.run('claim', { executor: 'executor-7' }, executor);
  return job;
}

describe('logLine: the wording of each event in the job log', () => {
  it('Created names the kind and who created the job', () => {
    expect(new Job().line('create', { label: 'Contacts', kind: 'import' })).toEqual(
      info('Import job created by alice: Editing in progress'),
    );
    expect(new Job().line('create', { label: 'Invoices', kind: 'export' }, { actor: 'carol' })).toEqual(
      info('Export job created by carol: Editing in progress'),
    );
  });

  it('DefinitionUpdated names the fields the update changed', () => {
    const job = new Job();
    job.run('create', { label: 'Contacts', kind: 'import' });
    expect(job.line('update', { definition: { file: 'c.csv' } })).toEqual(info('Job updated by alice (definition): Editing in progress'));
    expect(job.line('update', { label: 'Contacts (March)', definition: { file: 'd.csv' } })).toEqual(
      info('Job updated by alice (label, definition): Editing in progress'),
    );
  });

  it('Started says started the first time, and restarted after which status later', () => {
    const job = new Job();
    job.run('create', { label: 'Contacts', kind: 'import' });
    expect(job.line('start', {}, { actor: 'bob' })).toEqual(info('Job started by bob: Execution in progress'));
    job.run('pause', {});
    expect(job.line('start', {})).toEqual(info('Job restarted by alice after Paused: Execution in progress'));
    job.run('shutdown', {}, executor);
    expect(job.line('start', {})).toEqual(info('Job restarted by alice after Server shutdown in progress: Execution in progress'));
  });

  it('Claimed names the executor and its lease, and who sent the claim when another did', () => {
    const job = new Job();
    job.run('create', { label: 'Contacts', kind: 'import' });
    job.run('start', {});
    expect(job.line('claim', { executor: 'executor-7' }, executor)).toEqual(
      info('Claimed by executor executor-7 (lease 15 s): Execution in progress'),
    );
    job.run('shutdown', {});
    job.run('start', {});
    expect(job.line('claim', { executor: 'worker-2', leaseMs: 1500 }, { actor: 'import-worker' })).toEqual(
      info('Claimed by executor worker-2 (lease 1.5 s), sent by import-worker: Execution in progress'),
    );
  });

  it('Paused at once when no executor holds the running job', () => {
    const job = new Job();
    job.run('create', { label: 'Contacts', kind: 'import' });
    job.run('start', {});
    expect(job.line('pause', {}, { actor: 'bob' })).toEqual(info('Pause confirmed by bob: Paused'));
  });

  it('PauseRequested and Paused say who asked and who confirmed', () => {
    const job = running();
    expect(job.line('pause', {})).toEqual(info('Pause requested by alice: Pause in progress'));
    expect(job.line('mark-paused', {}, executor)).toEqual(info('Pause confirmed by executor-7: Paused'));
  });

  it('CancellationRequested, then Cancelled as confirmed by the executor', () => {
    const job = running();
    expect(job.line('cancel', {})).toEqual(info('Cancellation requested by alice: Cancellation in progress'));
    expect(job.line('mark-cancelled', {}, executor)).toEqual(info('Cancellation confirmed by executor-7: Cancel'));
  });

  it('Cancelled at once when nothing is executing', () => {
    const job = new Job();
    job.run('create', { label: 'Contacts', kind: 'import' });
    expect(job.line('cancel', {}, { actor: 'bob' })).toEqual(info('Job cancelled by bob: Cancel'));
    const unclaimed = new Job();
    unclaimed.run('create', { label: 'Contacts', kind: 'import' });
    unclaimed.run('start', {});
    expect(unclaimed.line('cancel', {}, { actor: 'bob' })).toEqual(info('Job cancelled by bob: Cancel'));
  });

  it('Finished counts the records processed, of the total when it is known', () => {
    const withTotal = running();
    expect(withTotal.line('finish', { processed: 20, total: 20 }, executor)).toEqual(
      info('Job finished, reported by executor-7 (20 of 20 records processed): Finished'),
    );
    const withoutTotal = running();
    expect(withoutTotal.line('finish', { processed: 12 }, executor)).toEqual(
      info('Job finished, reported by executor-7 (12 records processed): Finished'),
    );
  });

  it('Errored is an error entry with the message, and the code when there is one', () => {
    expect(running().line('fail', { error: { message: 'the source file cannot be read' } }, executor)).toEqual({
      level: 'error',
      message: 'Job failed, reported by executor-7 (the source file cannot be read): Finished with error',
    });
    expect(running().line('fail', { error: { message: 'the source file cannot be read', code: 'EIO' } }, executor)).toEqual({
      level: 'error',
      message: 'Job failed, reported by executor-7 (EIO: the source file cannot be read): Finished with error',
    });
  });

  it('Errored by the rejects policy says the policy stopped the job, after the warning of the rejects', () => {
    const job = running({ maxRejects: 1 });
    const records = [
      { line: 3, reason: 'bad email', record: { email: 'x' } },
      { line: 9, reason: 'no name', record: 'x;;' },
    ];
    expect(job.run('reject', { records }, executor)).toEqual([
      { level: 'warning', message: '2 records rejected, reported by executor-7 (2 in total)' },
      {
        level: 'error',
        message:
          "Job stopped by the rejects policy on records rejected by executor-7 (2 records rejected, more than the job's limit of 1: the job was stopped): Finished with error",
      },
    ]);
  });

  it('ServerShutdown is a warning, with the reason when there is one', () => {
    expect(running().line('shutdown', { reason: 'deployment' }, executor)).toEqual({
      level: 'warning',
      message: 'Server shutdown reported by executor-7 (deployment): Server shutdown in progress',
    });
    expect(running().line('shutdown', {}, executor)).toEqual({
      level: 'warning',
      message: 'Server shutdown reported by executor-7: Server shutdown in progress',
    });
  });

  it('MessageLogged is the executor’s message, at its level', () => {
    const job = running();
    for (const level of ['info', 'warning', 'error'] as const) {
      expect(job.line('log', { level, message: `a ${level} from the executor` }, executor)).toEqual({
        level,
        message: `a ${level} from the executor`,
      });
    }
  });

  it('RecordsRejected is a warning counting the records, in the singular for one, and the total so far', () => {
    const job = running();
    expect(job.line('reject', { records: [{ line: 3, reason: 'bad email', record: { email: 'x' } }] }, executor)).toEqual({
      level: 'warning',
      message: '1 record rejected, reported by executor-7 (1 in total)',
    });
    const records = [
      { line: 4, reason: 'bad email', record: { email: 'y' } },
      { line: 9, reason: 'no name', record: 'x;;' },
    ];
    expect(job.line('reject', { records }, executor)).toEqual({
      level: 'warning',
      message: '2 records rejected, reported by executor-7 (3 in total)',
    });
  });

  it('ProgressReported writes no line', () => {
    expect(running().line('progress', { processed: 5, total: 20 }, executor)).toBeNull();
  });

  it('an event type from a newer schema writes no line', () => {
    const job = running();
    const newer = { ...job.lastEvent(), type: 'Archived', data: {} } as unknown as JobEvent;
    expect(logLine(newer, job.state())).toBeNull();
  });
});
