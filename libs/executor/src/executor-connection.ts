import type { CommandBody, ExecutorHeartbeat, JobError, JobEvent, JobKind, JobStatus } from '#contracts';
import type { ExecutorJob } from './job-handler.js';

/** The commands an executor sends: the claim, and what it says about a job it holds. */
export type ExecutorCommandName =
  | 'claim'
  | 'progress'
  | 'log'
  | 'reject'
  | 'finish'
  | 'fail'
  | 'shutdown'
  | 'mark-paused'
  | 'mark-cancelled';

/** A command's answer as a value: the job's status after it, or the service's error. */
export type CommandResult = { ok: true; status: JobStatus; position: number } | { ok: false; error: JobError };

/** A job as the executor reads it before running it. */
export interface LoadedJob {
  job: ExecutorJob;
  status: JobStatus;
  /** The executor that holds it; null while it waits for one. */
  executor: string | null;
  /** Its number of events when read. */
  version: number;
}

/** What a job's state or snapshot says of it, for `loadedJob`. */
type JobRead = Omit<ExecutorJob, 'checkpoint'> & { checkpoint?: unknown; status: JobStatus; executor: string | null; version: number };

/** A job as the runtime reads it, from a snapshot (over NATS) or a state (in memory). */
export function loadedJob(read: JobRead): LoadedJob {
  const { jobId, kind, label, definition, rejectPolicy, checkpoint, processed, total, rejected } = read;
  return {
    job: { jobId, kind, label, definition, rejectPolicy, checkpoint: checkpoint ?? null, processed, total, rejected },
    status: read.status,
    executor: read.executor,
    version: read.version,
  };
}

/**
 * Everything the executor runtime does to the outside world: the service's commands and queries,
 * the event feed and the heartbeats. `connectExecutor` (NATS, through #client) and
 * `InMemoryJobs.connection()` (the real decider in memory, for unit tests) implement it.
 */
export interface ExecutorConnection {
  /** Sends a command with the body's `commandId` (or a new one), retrying transient failures with the same id. */
  send<N extends ExecutorCommandName>(name: N, body: CommandBody<N>): Promise<CommandResult>;
  /** The job now (after `minPosition`, when given); null when it does not exist. */
  loadJob(jobId: string, minPosition?: number): Promise<LoadedJob | null>;
  /** Running jobs of these kinds that no executor holds, oldest first. */
  waitingJobs(kinds: JobKind[]): Promise<string[]>;
  /** Executing jobs under this executor's claim: at start, those an earlier process with the same id left behind. */
  jobsHeldBy(executor: string): Promise<string[]>;
  /** The position of the last commit of the event stream: a feed from it starts now. */
  headPosition(): Promise<number>;
  /** Every job's events after `afterPosition`, live until `signal` aborts. */
  followEvents(afterPosition: number, signal: AbortSignal): AsyncIterable<JobEvent>;
  heartbeat(beat: ExecutorHeartbeat): void;
  /** Largest command body the service takes (JOBS_MAX_PAYLOAD_BYTES). */
  readonly maxPayloadBytes: number;
  close(): Promise<void>;
}

/** Answers that mean the job is no longer this executor's to run: another holds it, or it ended without it. */
export function jobLost(error: JobError): boolean {
  return error.code === 'JOB_CLAIMED' || error.code === 'INVALID_TRANSITION' || error.code === 'JOB_NOT_FOUND';
}
