import path from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { EncodedJobEventCommit } from '#contracts';
import { EVENT_STORE, type EventStore } from '#event-store';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { JobQueries, ReadModelDatabase, type QuarantineSummary } from '#read-models';
import { AppliedPosition } from './applied-position.js';
import { MAX_BATCH } from './commit-batches.js';
import { ReadModelGenerations } from './read-model-generations.js';
import { applyTail, loadHistoryInBulk } from './read-model-rebuild.js';

export { PositionTimeout } from './applied-position.js';

/**
 * An instance starting from an empty file loads a history of at least this many commits the way a
 * rebuild does (a worker thread, indexes built at the end), faster than commit by commit. Below it,
 * starting the worker and building the indexes cost more than they save.
 */
export const BULK_CATCH_UP_MIN_COMMITS = 20_000;

/** How far an instance's read models are, for its operator. */
export interface ReadModelStatus {
  /** Position of the last commit the read models hold. */
  position: number;
  /** Position of the last commit in the event store. */
  head: number;
  /** Commits the read models are behind the event store. */
  behind: number;
  /** The SQLite file in use. */
  file: string;
  rebuilding: boolean;
  /** The last failure to follow the event store since this instance started (it retries every second). */
  lastError: { at: string; message: string } | null;
  /** The commits the read models refused to apply (never applied; the job and the stream go on). */
  quarantined: QuarantineSummary;
}

export interface RebuildReport {
  position: number;
  commits: number;
  events: number;
  seconds: number;
}

/**
 * Keeps this instance's read models (one SQLite file) up to date with the event store: catches up
 * from the file's checkpoint, then follows live. Queries wait on `waitFor(position)` to read their
 * own writes. A rebuild fills a fresh file from position 0 and swaps it in while queries go on.
 */
@Injectable()
export class ReadModelProjector implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ReadModelProjector.name);
  private readonly folder: string;
  private generations!: ReadModelGenerations;
  private database!: ReadModelDatabase;
  private current!: JobQueries;
  private readonly applied = new AppliedPosition();
  private readonly buffered: EncodedJobEventCommit[] = [];
  private flushScheduled = false;
  private readonly stopping = new AbortController();
  private following: Promise<void> = Promise.resolve();
  private rebuilding: Promise<RebuildReport> | null = null;
  private lastError: ReadModelStatus['lastError'] = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
  ) {
    this.folder = path.join(config.dataDir, 'read-models', config.stream);
  }

  onModuleInit(): void {
    this.generations = ReadModelGenerations.open(this.folder);
    this.database = ReadModelDatabase.open(this.generations.activeFile());
    this.current = new JobQueries(this.database);
    this.applied.advanceTo(this.database.checkpoint());
    this.generations.removeAllBut(this.database.file);
    this.logger.log(`read models at position ${this.applied.position} in ${this.database.file}`);
    this.following = this.catchUpAndFollow();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    await this.following;
    // A rebuild stops with the same signal; its fresh file is removed.
    await this.rebuilding?.catch(() => undefined);
    this.flush();
    this.database.close();
    this.generations.release();
  }

  /** The queries over the read models in use now (a rebuild swaps them). */
  get queries(): JobQueries {
    return this.current;
  }

  /** The SQLite file in use now. */
  get databaseFile(): string {
    return this.database.file;
  }

  async status(): Promise<ReadModelStatus> {
    // The head first: the read models can only have moved closer to it meanwhile.
    const head = await this.store.headPosition();
    const position = this.applied.position;
    return {
      position,
      head,
      behind: Math.max(0, head - position),
      file: this.database.file,
      rebuilding: this.rebuilding !== null,
      lastError: this.lastError,
      quarantined: this.database.quarantine(),
    };
  }

  /** Resolves once the read models have applied `position`; rejects with PositionTimeout after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<void> {
    return this.applied.waitFor(position, timeoutMs);
  }

  private async catchUpAndFollow(): Promise<void> {
    if (this.applied.position === 0) {
      try {
        const head = await this.store.headPosition();
        if (head >= BULK_CATCH_UP_MIN_COMMITS) await this.rebuild(head, 'loaded the history in bulk');
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        this.failed(`loading the history in bulk failed, catching up commit by commit instead: ${String(error)}`);
      }
    }
    await this.follow();
  }

  private async follow(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        for await (const commits of this.store.subscribe({ afterPosition: this.applied.position, live: true, signal })) {
          this.buffered.push(...commits);
          if (this.buffered.length >= MAX_BATCH) this.flush();
          else if (!this.flushScheduled) {
            // Whatever else arrives in this turn of the event loop joins the same transaction.
            this.flushScheduled = true;
            setImmediate(() => this.flush());
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        this.failed(`following the event store failed, resuming from ${this.applied.position}: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      } finally {
        // Resume right after what is applied: nothing buffered is left behind or delivered twice.
        this.flush();
      }
    }
  }

  private failed(message: string): void {
    this.logger.error(message);
    this.lastError = { at: new Date().toISOString(), message };
  }

  /** Applies what is buffered, in one transaction with the checkpoint, and wakes the queries it satisfies. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.buffered.length === 0) return;
    const batch = this.buffered.splice(0);
    // A commit the database already holds (after a rebuild swap, say) is skipped by its checkpoint,
    // so each quarantined commit is logged once.
    const { checkpoint, quarantined } = this.database.applyCommits(batch);
    for (const { position, jobId, reason } of quarantined) {
      this.logger.warn(`quarantined the commit at position ${position} on job ${jobId}'s subject, never applied: ${reason}`);
    }
    this.applied.advanceTo(checkpoint);
  }

  /**
   * Rebuilds every read model from position 0 into a fresh file and swaps it in; one at a time. The
   * bulk load goes up to `target` (by default what the file in use shows), the rest is applied after.
   */
  rebuild(target = this.applied.position, done = 'rebuilt the read models'): Promise<RebuildReport> {
    this.rebuilding ??= this.runRebuild(target, done).finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  private async runRebuild(target: number, done: string): Promise<RebuildReport> {
    const started = performance.now();
    const file = this.generations.newFile();
    const signal = this.stopping.signal;
    let fresh: ReadModelDatabase | null = null;
    let commits = 0;
    let events = 0;
    try {
      // The bulk of the history, up to what the live file shows now, goes through a worker thread.
      ({ commits, events } = await loadHistoryInBulk(this.store, file, target, signal));
      // Then the short tail that came meanwhile, here, until the fresh file has reached what the live
      // one shows at a moment with nothing buffered: from then on every commit goes to the file in use,
      // so the swap below follows with no await in between.
      fresh = ReadModelDatabase.open(file);
      for (;;) {
        this.flush();
        if (fresh.checkpoint() >= this.applied.position) break;
        const tail = await applyTail(this.store, fresh, this.applied.position, signal);
        commits += tail.commits;
        events += tail.events;
      }
    } catch (error) {
      fresh?.close();
      this.generations.remove(file);
      throw error;
    }
    const previous = this.database;
    this.database = fresh;
    this.current = new JobQueries(fresh);
    this.generations.activate(file);
    previous.close();
    this.generations.removeAllBut(file);
    this.applied.advanceTo(fresh.checkpoint());
    const seconds = (performance.now() - started) / 1000;
    this.logger.log(`${done}: ${events} events in ${seconds.toFixed(2)} s, at position ${this.applied.position}`);
    const { count, last } = fresh.quarantine();
    if (last) {
      this.logger.warn(
        `${count} commits quarantined, never applied, the last at position ${last.position} on job ${last.jobId}'s subject: ${last.reason}`,
      );
    }
    return { position: this.applied.position, commits, events, seconds };
  }
}
