import type { EncodedJobEventCommit, UnpositionedJobEvent } from '#contracts';
import {
  ConcurrencyError,
  reaches,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ReadJobOptions,
  type SubscribeOptions,
} from './event-store.port.js';

/**
 * The event store in one process's memory, for unit tests of the application layer. It keeps the
 * port's promises as the JetStream adapter does: one global position per commit (from 1), optimistic
 * concurrency per job, and commit ids that drop a retried append.
 */
export class InMemoryEventStore implements EventStore {
  /** Commit at position p is at index p - 1: its events as JSON, as a real store would give them back. */
  private readonly commits: EncodedJobEventCommit[] = [];
  private readonly jobCommits = new Map<string, EncodedJobEventCommit[]>();
  private readonly positionsByCommitId = new Map<string, number>();
  /** Live subscriptions waiting for the next append (or for close). */
  private readonly waiters = new Set<() => void>();
  private closed = false;

  async append(jobId: string, events: UnpositionedJobEvent[], { expectedPosition, commitId }: AppendOptions): Promise<AppendResult> {
    this.throwIfClosed();
    if (events.length === 0) throw new Error('a commit needs at least one event');
    // A retry is recognised before the position check: the job has moved on by this very commit.
    const earlier = this.positionsByCommitId.get(commitId);
    if (earlier !== undefined) return { position: earlier, duplicate: true };
    if (this.lastPosition(jobId) !== expectedPosition) throw new ConcurrencyError(jobId, expectedPosition);
    const position = this.store(jobId, JSON.stringify(events), events.at(-1)!.version);
    this.positionsByCommitId.set(commitId, position);
    return { position, duplicate: false };
  }

  /**
   * Stores any body on a job's subject, with any `Job-Version` header (null: none), as a client
   * allowed to publish there could: for tests of what readers make of a commit the service never wrote.
   */
  async appendRaw(jobId: string, events: string, version: number | null): Promise<AppendResult> {
    this.throwIfClosed();
    return { position: this.store(jobId, events, version), duplicate: false };
  }

  private throwIfClosed(): void {
    if (this.closed) throw new Error('the event store is closed');
  }

  private store(jobId: string, events: string, version: number | null): number {
    // No await from the caller's check to here: concurrent appends cannot interleave.
    const commit: EncodedJobEventCommit = { position: this.commits.length + 1, jobId, version, events };
    this.commits.push(commit);
    const ofJob = this.jobCommits.get(jobId) ?? [];
    ofJob.push(commit);
    this.jobCommits.set(jobId, ofJob);
    this.wakeWaiters();
    return commit.position;
  }

  private lastPosition(jobId: string): number {
    return this.jobCommits.get(jobId)?.at(-1)?.position ?? 0;
  }

  async readJob(jobId: string, { afterPosition = 0, toVersion = Infinity }: ReadJobOptions = {}): Promise<EncodedJobEventCommit[]> {
    const commits: EncodedJobEventCommit[] = [];
    for (const commit of this.jobCommits.get(jobId) ?? []) {
      if (commit.position <= afterPosition) continue;
      commits.push({ ...commit });
      if (reaches(commit, toVersion)) break;
    }
    return commits;
  }

  subscribe({ afterPosition, live, signal }: SubscribeOptions): AsyncIterable<EncodedJobEventCommit[]> {
    // Not a generator itself: the head of a catch-up read is fixed now, not at the first next().
    return this.follow(afterPosition, live ? Infinity : this.commits.length, signal);
  }

  private async *follow(afterPosition: number, until: number, signal?: AbortSignal): AsyncGenerator<EncodedJobEventCommit[]> {
    let position = afterPosition;
    while (!signal?.aborted && position < until) {
      // Every commit stored after the position and up to `until`, at once.
      const stored = this.commits.slice(position, until);
      if (stored.length > 0) {
        position = stored.at(-1)!.position;
        yield stored.map((commit) => ({ ...commit }));
      } else if (this.closed) {
        return;
      } else {
        await this.nextAppend(signal);
      }
    }
  }

  /** Resolves on the next append, on close, or when the signal aborts. */
  private nextAppend(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  private wakeWaiters(): void {
    for (const wake of [...this.waiters]) wake();
  }

  async headPosition(): Promise<number> {
    return this.commits.length;
  }

  /** Ends live subscriptions once they have delivered what is stored; later appends fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeWaiters();
  }
}
