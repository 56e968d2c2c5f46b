import type { EncodedJobEventCommit, JobEvent, JobEventCommit, UnpositionedJobEvent } from '#contracts';

export interface AppendOptions {
  /** The job version the events were decided on (0 for a new job). */
  expectedVersion: number;
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
  /** Only events with a version above this one. */
  afterVersion?: number;
  /** Where the commit holding `afterVersion` is, when known: lets the store skip what is before. */
  afterPosition?: number;
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
 */
export interface EventStore {
  /** Fails with ConcurrencyError when the job is no longer at `expectedVersion`. */
  append(jobId: string, events: UnpositionedJobEvent[], options: AppendOptions): Promise<AppendResult>;
  /** A job's events in version order (empty when the job does not exist). */
  readJob(jobId: string, options?: ReadJobOptions): Promise<JobEvent[]>;
  /** A job's current version and the position of its last commit, without reading its events. */
  jobHead(jobId: string): Promise<{ version: number; position: number }>;
  /** Every commit in position order, from a position, optionally following live. */
  subscribe(options: SubscribeOptions): AsyncIterable<JobEventCommit>;
  /**
   * The same commits as `subscribe`, undecoded (`decodeCommit` reads one), in batches of what has
   * arrived: for a reader of many that decodes them in another thread (a rebuild).
   */
  subscribeEncoded(options: SubscribeOptions): AsyncIterable<EncodedJobEventCommit[]>;
  /** Position of the last commit in the store (0 when empty). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

export class ConcurrencyError extends Error {
  constructor(
    readonly jobId: string,
    readonly expectedVersion: number,
  ) {
    super(`job ${jobId} is no longer at version ${expectedVersion}`);
    this.name = 'ConcurrencyError';
  }
}

/** The store did not confirm an append in time: it may or may not have stored it. */
export class AppendTimeout extends Error {
  override name = 'AppendTimeout';
}

/** Token for Nest's dependency injection. */
export const EVENT_STORE = Symbol('EventStore');
