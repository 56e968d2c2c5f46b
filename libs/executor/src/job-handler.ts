import type { JobKind, LogLevel, RejectPolicy, RejectedRecordInput } from '#contracts';

/** A started job as an executor hands it to its handler. */
export interface ExecutorJob {
  jobId: string;
  kind: JobKind;
  label: string;
  definition: Record<string, unknown>;
  rejectPolicy: RejectPolicy;
  /** What the handler saved with `checkpoint` in an earlier run of this job; null on its first run. */
  checkpoint: unknown;
  /** The job's counts when this run began (its earlier runs' work). */
  processed: number;
  total: number | null;
  rejected: number;
}

/** Why a handler's signal fired: its reason is an `ExecutorStop`. */
export type ExecutorStopReason =
  /** Pause was clicked: the executor confirms with mark-paused once the handler returns. */
  | 'pause'
  /** Cancel was clicked: the executor confirms with mark-cancelled. */
  | 'cancel'
  /** The executor is stopping (SIGTERM, SIGINT): it moves the job to "Server shutdown in progress". */
  | 'shutdown'
  /** The job ended without the handler (the reject limit, or another executor took it over): nothing more is sent. */
  | 'ended';

export class ExecutorStop extends Error {
  constructor(readonly reason: ExecutorStopReason) {
    super(`job stopped: ${reason}`);
    this.name = 'ExecutorStop';
  }
}

/** What a handler may do while it runs. */
export interface JobContext {
  /** Fires on Pause, Cancel, the executor's shutdown, or the job's end; `signal.reason` is an `ExecutorStop`. */
  signal: AbortSignal;
  /** Coalesced: at most a few progress events a second reach the job, and the last one always does. */
  progress(processed: number, total?: number): void;
  log(level: LogLevel, message: string): Promise<void>;
  /**
   * Batched and split to fit the payload limit; resolves once they are recorded. Rejects past the
   * job's limit end the job (the signal fires with 'ended'). With a `key` that names these records
   * the same way in every run (say, the lines of one batch), a run that resumes and sends them again
   * records them once.
   */
  reject(records: RejectedRecordInput[], options?: { key?: string }): Promise<void>;
  /**
   * Saves where the handler is (any JSON value) with its processed count, so that a later run
   * resumes there (`job.checkpoint`). Resolves once it is recorded on the job.
   */
  checkpoint(value: unknown, processed: number, total?: number): Promise<void>;
}

/** What a handler may say when it ends its work: the job's final counts. */
export interface JobOutcome {
  processed?: number;
  total?: number;
}

/**
 * Runs one job. Returning finishes it; throwing fails it with the error's message (and `code`, if it
 * has one); stopping because the signal fired (returning or throwing after it) confirms the stop.
 */
export type JobHandler = (job: ExecutorJob, context: JobContext) => Promise<JobOutcome | undefined>;
