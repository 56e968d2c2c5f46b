import { decodeCommit, type EncodedJobEventCommit, type JobEvent, type JobEventCommit, type UnpositionedJobEvent } from '#contracts';
import {
  ConcurrencyError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ReadJobOptions,
  type SubscribeOptions,
} from './event-store.port.js';
import { decodeEach } from './decode-each.js';

/** A commit as held: its events as JSON, so readers get what a real store would give back. */
interface StoredCommit extends EncodedJobEventCommit {
  jobId: string;
}

/**
 * The event store in one process's memory, for unit tests of the application layer. It keeps the
 * port's promises as the JetStream adapter does: one global position per commit (from 1), optimistic
 * concurrency per job, and commit ids that drop a retried append.
 */
export class InMemoryEventStore implements EventStore {
  /** Commit at position p is at index p - 1. */
  private readonly commits: StoredCommit[] = [];
  private readonly jobCommits = new Map<string, StoredCommit[]>();
  private readonly heads = new Map<string, { version: number; position: number }>();
  private readonly positionsByCommitId = new Map<string, number>();
  /** Live subscriptions waiting for the next append (or for close). */
  private readonly waiters = new Set<() => void>();
  private closed = false;

  async append(jobId: string, events: UnpositionedJobEvent[], { expectedVersion, commitId }: AppendOptions): Promise<AppendResult> {
    if (this.closed) throw new Error('the event store is closed');
    if (events.length === 0) throw new Error('a commit needs at least one event');
    // A retry is recognised before the version check: the job has moved on by this very commit.
    const earlier = this.positionsByCommitId.get(commitId);
    if (earlier !== undefined) return { position: earlier, duplicate: true };
    const head = this.heads.get(jobId);
    if ((head?.version ?? 0) !== expectedVersion) throw new ConcurrencyError(jobId, expectedVersion);

    // No await from the check to here: concurrent appends cannot interleave.
    const commit: StoredCommit = { position: this.commits.length + 1, jobId, events: JSON.stringify(events) };
    this.commits.push(commit);
    const ofJob = this.jobCommits.get(jobId) ?? [];
    ofJob.push(commit);
    this.jobCommits.set(jobId, ofJob);
    this.heads.set(jobId, { version: events[events.length - 1]!.version, position: commit.position });
    this.positionsByCommitId.set(commitId, commit.position);
    this.wakeWaiters();
    return { position: commit.position, duplicate: false };
  }

  async readJob(jobId: string, { afterVersion = 0, afterPosition = 0 }: ReadJobOptions = {}): Promise<JobEvent[]> {
    const events: JobEvent[] = [];
    for (const stored of this.jobCommits.get(jobId) ?? []) {
      if (stored.position <= afterPosition) continue;
      for (const event of decodeCommit(stored).events) if (event.version > afterVersion) events.push(event);
    }
    return events;
  }

  async jobHead(jobId: string): Promise<{ version: number; position: number }> {
    return { ...(this.heads.get(jobId) ?? { version: 0, position: 0 }) };
  }

  subscribe(options: SubscribeOptions): AsyncIterable<JobEventCommit> {
    return decodeEach(this.subscribeEncoded(options));
  }

  subscribeEncoded({ afterPosition, live, signal }: SubscribeOptions): AsyncIterable<EncodedJobEventCommit[]> {
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
        yield stored.map((commit) => ({ position: commit.position, events: commit.events }));
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
