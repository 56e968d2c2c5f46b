import { isJobsError, JobsError } from '#client';
import { EXECUTING_JOB_STATUSES, type CommandBody, type JobError, type LogLevel, type RejectedRecordInput } from '#contracts';
import { jobLost, type ExecutorCommandName, type ExecutorConnection, type LoadedJob } from './executor-connection.js';
import { ExecutorStop, type ExecutorStopReason, type JobContext, type JobHandler, type JobOutcome } from './job-handler.js';
import { ProgressCoalescer, type ProgressUpdate } from './progress-coalescer.js';
import { REJECT_ENVELOPE_BYTES, rejectCommandId, splitRejects } from './reject-batches.js';

/** Reports what goes wrong outside any handler's reach (a progress command that failed, a confirm that did not go through). */
export type ExecutorLogger = (level: LogLevel, message: string) => void;

export interface JobRunOptions {
  connection: ExecutorConnection;
  executor: string;
  loaded: LoadedJob;
  handler: JobHandler;
  logger: ExecutorLogger;
  progressIntervalMs?: number;
}

const MAX_LOG_MESSAGE = 8_000;
const MAX_ERROR_MESSAGE = 4_000;
const MAX_ERROR_CODE = 200;

/**
 * One run of one job by its handler, from the claim to the command that ends the run: `finish` when
 * the handler returns, `fail` when it throws, and once its signal fired, `mark-paused`,
 * `mark-cancelled` or `shutdown` (nothing on 'ended'). Every command names the executor, so a run
 * the job no longer belongs to is refused (JOB_CLAIMED) and stops there.
 */
export class JobRun {
  readonly jobId: string;
  /** The job's version when it was loaded: its events up to it belong to earlier runs. */
  readonly loadedVersion: number;
  private readonly controller = new AbortController();
  private readonly progress: ProgressCoalescer;
  /** Reject commands one at a time, in the order the handler made them. */
  private rejects: Promise<void> = Promise.resolve();
  private shutdownReason = 'the executor stopped';
  /** Set once the executor itself answered for the job (a shutdown after the grace period): the run sends nothing more. */
  private released = false;
  private started = false;
  private finished!: Promise<void>;

  constructor(private readonly options: JobRunOptions) {
    this.jobId = options.loaded.job.jobId;
    this.loadedVersion = options.loaded.version;
    this.progress = new ProgressCoalescer((update) => this.sendProgress(update), options.progressIntervalMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the run was stopped; null while it goes on. */
  get stopReason(): ExecutorStopReason | null {
    return this.signal.aborted ? (this.signal.reason as ExecutorStop).reason : null;
  }

  /** Whether the handler runs (the claim went through) and the run has not ended. */
  get holding(): boolean {
    return this.started && !this.released;
  }

  /** Calls the handler; resolves once the run's last command is answered. Never rejects. */
  start(): Promise<void> {
    this.started = true;
    this.finished = this.run().catch((error) => this.options.logger('error', `job ${this.jobId}: ${describe(error)}`));
    return this.finished;
  }

  get done(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }

  /** Fires the handler's signal (the first reason wins); `shutdownReason` is what the shutdown command will say. */
  stop(reason: ExecutorStopReason, shutdownReason?: string): void {
    if (this.signal.aborted) return;
    if (shutdownReason !== undefined) this.shutdownReason = shutdownReason;
    this.controller.abort(new ExecutorStop(reason));
    if (reason === 'ended') this.progress.cancelPending();
  }

  /** The executor answered for the job itself: nothing more is sent for this run. */
  release(): void {
    this.released = true;
    this.stop('ended');
  }

  private async run(): Promise<void> {
    const { handler, loaded } = this.options;
    let outcome: JobOutcome | undefined;
    let failure: unknown = null;
    if (!this.signal.aborted) {
      try {
        outcome = (await handler(loaded.job, this.context())) ?? undefined;
      } catch (error) {
        failure = error ?? new Error('the handler threw without an error');
      }
    }
    if (!this.signal.aborted) {
      // What the handler reported is recorded before the job ends; a reject past the limit may end it here.
      await this.progress.flush();
      await this.rejects;
    }
    if (this.signal.aborted) return this.confirmStop();
    if (failure !== null) {
      const code = (failure as { code?: unknown }).code;
      await this.send('fail', {
        jobId: this.jobId,
        executor: this.options.executor,
        error: {
          message: cut(describe(failure), MAX_ERROR_MESSAGE) || 'the handler failed',
          ...(typeof code === 'string' && code.trim() !== '' ? { code: cut(code, MAX_ERROR_CODE) } : {}),
        },
      });
    } else {
      await this.send('finish', {
        jobId: this.jobId,
        executor: this.options.executor,
        ...(outcome?.processed === undefined ? {} : { processed: outcome.processed }),
        ...(outcome?.total === undefined ? {} : { total: outcome.total }),
      });
    }
  }

  /** Confirms why the handler stopped, after what it reported on its way out. */
  private async confirmStop(): Promise<void> {
    const reason = this.stopReason;
    if (reason === 'ended' || this.released) return;
    await this.progress.flush();
    await this.rejects.catch(() => undefined);
    if (this.stopReason === 'ended' || this.released) return;
    const { executor } = this.options;
    const jobId = this.jobId;
    if (reason === 'pause') await this.send('mark-paused', { jobId, executor });
    else if (reason === 'cancel') await this.send('mark-cancelled', { jobId, executor });
    else await this.send('shutdown', { jobId, executor, reason: this.shutdownReason });
  }

  private context(): JobContext {
    const { executor } = this.options;
    const jobId = this.jobId;
    return {
      signal: this.signal,
      progress: (processed, total) => {
        if (this.stopReason !== 'ended') this.progress.report(processed, total);
      },
      log: (level, message) => {
        const sent = this.send('log', { jobId, executor, level, message: cut(message, MAX_LOG_MESSAGE) || '(empty message)' });
        // A handler that does not await its log line does not crash the process when it fails.
        sent.catch(() => undefined);
        return sent;
      },
      reject: (records, options) => {
        const sent = this.rejects.then(() => this.sendRejects(records, options?.key));
        this.rejects = sent.catch(() => undefined);
        return sent;
      },
      checkpoint: (value, processed, total) => this.progress.checkpoint(value, processed, total),
    };
  }

  private async sendRejects(records: RejectedRecordInput[], key: string | undefined): Promise<void> {
    if (records.length === 0) return;
    const batches = splitRejects(records, this.options.connection.maxPayloadBytes - REJECT_ENVELOPE_BYTES);
    for (const [index, batch] of batches.entries()) {
      await this.send('reject', {
        jobId: this.jobId,
        executor: this.options.executor,
        records: batch,
        ...(key === undefined ? {} : { commandId: rejectCommandId(key, index) }),
      }).catch((error: unknown) => {
        // An earlier run of the job recorded these records under the key, in a command that named its
        // own executor: they are recorded, once, as the key promises.
        if (key === undefined || !isJobsError(error, 'COMMAND_ID_REUSED')) throw error;
      });
      // The reject limit ended the job: the rest are not recorded.
      if (this.stopReason === 'ended') return;
    }
  }

  private async sendProgress(update: ProgressUpdate): Promise<void> {
    const body: CommandBody<'progress'> = { jobId: this.jobId, executor: this.options.executor, ...update };
    if (update.checkpoint !== undefined) {
      await this.send('progress', body);
      return;
    }
    // Counts only: a failure is reported, and the next counts go anyway.
    await this.send('progress', body).catch((error) => {
      if (!(error instanceof ExecutorStop)) this.options.logger('warning', `job ${this.jobId}: progress not recorded: ${describe(error)}`);
    });
  }

  /**
   * Sends a command of the run. A reply that says the job is no longer this run's (JOB_CLAIMED, or
   * a status that refuses it) stops the run with 'ended' and throws an ExecutorStop; a reply that
   * leaves the job no longer executing (rejects past the limit) stops it with 'ended' too.
   */
  private async send<N extends ExecutorCommandName>(name: N, body: CommandBody<N>): Promise<void> {
    if (this.released || this.stopReason === 'ended') throw new ExecutorStop('ended');
    const result = await this.options.connection.send(name, body);
    if (result.ok) {
      if (!EXECUTING_JOB_STATUSES.has(result.status) && isRunCommand(name)) this.stop('ended');
      return;
    }
    if (jobLost(result.error)) {
      this.stop('ended');
      if (!isEndingCommand(name)) throw new ExecutorStop('ended');
      this.options.logger('warning', `job ${this.jobId}: ${name} not applied: ${result.error.message}`);
      return;
    }
    throw errorOf(result.error);
  }
}

/** Commands sent while the job runs: after them, a job that no longer executes has ended without this run. */
function isRunCommand(name: ExecutorCommandName): boolean {
  return name === 'progress' || name === 'reject';
}

/** Commands that end the run: refused, there is nothing left to stop. */
function isEndingCommand(name: ExecutorCommandName): boolean {
  return name === 'finish' || name === 'fail' || name === 'shutdown' || name === 'mark-paused' || name === 'mark-cancelled';
}

function errorOf(error: JobError): JobsError {
  return new JobsError(error);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function cut(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed;
}
