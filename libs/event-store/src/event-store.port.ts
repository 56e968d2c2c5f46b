import type { EncodedJobEventCommit, UnpositionedJobEvent } from '#contracts';

export interface AppendOptions {
  /**
   * Position of the job's last commit as the caller read it, one that failed its check included (0
   * for a job with none): the append goes through only if nothing came after it.
   */
  expectedPosition: number;
  /** Deduplicates a retried append of the same decision (for example after a publish timeout). */
  commitId: string;
}

export interface AppendResult {
  /** Global position of the commit. */
  position: number;
  /** True when the store already held this commit (same commitId): nothing new was appended. */
  duplicate: boolean;
}

export interface ReadJobOptions {
  /** Only the commits after this position (0: every one). */
  afterPosition?: number;
  /**
   * Stop after the first commit whose `Job-Version` header reaches this version, for a reader that
   * needs no more. A hint only, as a header can lie: a reader whose checked job has not reached the
   * version reads on after the last commit it got.
   */
  toVersion?: number;
}

export interface SubscribeOptions {
  /** Deliver commits after this global position (0: from the beginning). */
  afterPosition: number;
  /** Keep following new commits (true) or stop at the head as it was when subscribing (false). */
  live: boolean;
  signal?: AbortSignal;
}

/**
 * The port both adapters implement: JetStream (the service's store) and in-memory (unit tests). A
 * commit is the events of one command: appended atomically, read atomically, at one global position.
 * Anyone allowed to publish to the events subjects can put anything there, so the store hands commits
 * over as stored, with the job of their subject and their `Job-Version` header, and never throws on
 * a bad body: its readers check each commit (`checkCommit` in #domain) and quarantine those that fail.
 */
export interface EventStore {
  /** Fails with ConcurrencyError when the job has a commit after `expectedPosition`. */
  append(jobId: string, events: UnpositionedJobEvent[], options: AppendOptions): Promise<AppendResult>;
  /** A job's commits in position order (none when the job has none). */
  readJob(jobId: string, options?: ReadJobOptions): Promise<EncodedJobEventCommit[]>;
  /**
   * Every commit in position order, from a position, optionally following live, in batches of what
   * has arrived: a reader of many (a rebuild) hands them to another thread as they are.
   */
  subscribe(options: SubscribeOptions): AsyncIterable<EncodedJobEventCommit[]>;
  /** Position of the last commit in the store (0 when empty). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

/** Whether a read with `toVersion` stops after this commit. */
export function reaches(commit: EncodedJobEventCommit, toVersion: number): boolean {
  return commit.version !== null && commit.version >= toVersion;
}

export class ConcurrencyError extends Error {
  constructor(
    readonly jobId: string,
    readonly expectedPosition: number,
  ) {
    super(`job ${jobId} has a commit after position ${expectedPosition}`);
    this.name = 'ConcurrencyError';
  }
}

/** The store did not confirm an append in time: it may or may not have stored it. */
export class AppendTimeout extends Error {
  override name = 'AppendTimeout';
}

/** Token for Nest's dependency injection. */
export const EVENT_STORE = Symbol('EventStore');
