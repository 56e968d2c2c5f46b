import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { JobEventCommit } from '#contracts';
import { CommitApplier } from './commit-applier.js';
import { syncFile } from './durable-file.js';
import { dropIndexes, keepIndexesAsDefined, migrateSchema } from './read-model-schema.js';

/** Below this many jobs every plan is fast: the planner needs no statistics yet. */
const MIN_JOBS_TO_ANALYZE = 1000;

/**
 * The job list, logs and rejects in one SQLite file, fed with commits of the event store.
 * A batch of commits and the checkpoint are written in one transaction: after a crash at any
 * instant the file holds either all of a batch or none of it, and `applyCommits` skips what the
 * checkpoint says is already there, so resuming from `checkpoint()` loses nothing and repeats nothing.
 */
export class ReadModelDatabase {
  private readonly commits: CommitApplier;
  private jobCount: number;
  /** True between `openForBulkLoad` and `endBulkLoad`: the indexes are dropped, to be built at the end. */
  private bulkLoading = false;
  /** Number of jobs when the query planner's statistics were last gathered. */
  private analyzedJobCount: number;

  private constructor(
    /** The file, for readers that need their own connection (a long export). */
    readonly file: string,
    readonly connection: Database.Database,
  ) {
    this.commits = new CommitApplier(connection);
    // The kept counts add up to every job: no walk of the jobs table at start-up.
    this.jobCount = connection.prepare<[], number>('SELECT coalesce(sum(jobs), 0) FROM job_counts').pluck().get()!;
    const hasStatistics = connection.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").get() !== undefined;
    const statistics = hasStatistics
      ? connection.prepare<[], string>("SELECT stat FROM sqlite_stat1 WHERE tbl = 'jobs' LIMIT 1").pluck().get()
      : undefined;
    this.analyzedJobCount = statistics === undefined ? 0 : Number.parseInt(statistics, 10);
  }

  /** Opens the file, creating it, its folder and its tables when missing. */
  static open(file: string): ReadModelDatabase {
    mkdirSync(dirname(file), { recursive: true });
    const connection = new Database(file);
    try {
      connection.pragma('journal_mode = WAL');
      // In WAL mode NORMAL only risks the last transactions on a power loss, never consistency: the
      // checkpoint goes back with the rows it covers, and those commits are applied again.
      connection.pragma('synchronous = NORMAL');
      connection.pragma('cache_size = -65536');
      migrateSchema(connection);
      return new ReadModelDatabase(file, connection);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /**
   * Opens a new file for a bulk load (a rebuild): until `endBulkLoad`, no fsync, no secondary
   * index and no label index, which are then built at once, several times faster than kept up to
   * date row by row.
   * Not for queries before `endBulkLoad`; a failed load is thrown away, so durability waits too.
   */
  static openForBulkLoad(file: string): ReadModelDatabase {
    const database = ReadModelDatabase.open(file);
    if (database.checkpoint() !== 0) {
      database.close();
      throw new Error(`a bulk load fills a new file, and ${file} already holds read models`);
    }
    database.connection.pragma('synchronous = OFF');
    database.bulkLoading = true;
    // `open` made the indexes as defined; `endBulkLoad` makes them again.
    dropIndexes(database.connection);
    // No journal file either: nothing is to be rolled back on disk, as a failed load is thrown away.
    database.connection.pragma('journal_mode = MEMORY');
    return database;
  }

  /** Builds the indexes a bulk load deferred, labels included, with fresh planner statistics, and makes writes durable again. */
  endBulkLoad(): void {
    this.connection.exec('INSERT INTO job_labels (rowid, label) SELECT id, label_folded FROM jobs');
    keepIndexesAsDefined(this.connection);
    this.bulkLoading = false;
    this.connection.exec('ANALYZE jobs');
    this.analyzedJobCount = this.jobCount;
    this.connection.pragma('journal_mode = WAL');
    this.connection.pragma('synchronous = NORMAL');
    // The load wrote without syncing: its pages reach the disk before the file is handed over, or a
    // power cut after a rebuild's swap could leave the file in use half written.
    syncFile(this.file);
  }

  /** Position of the last commit applied (0 for an empty read model). */
  checkpoint(): number {
    return this.commits.checkpoint();
  }

  /**
   * Applies commits in position order, all in one transaction with the new checkpoint, skipping
   * those at or below the checkpoint. Returns the checkpoint after the batch.
   */
  applyCommits(commits: readonly JobEventCommit[]): number {
    const { checkpoint, newJobs } = this.commits.apply(commits, { indexLabels: !this.bulkLoading });
    this.jobCount += newJobs;
    // The planner picks the index of the most selective filter (a status over a kind, say) from
    // statistics of the jobs table; gathering them is O(jobs), so it is done as their number doubles.
    // A bulk load has no index to plan with yet: `endBulkLoad` gathers them once.
    if (!this.bulkLoading && this.jobCount >= Math.max(MIN_JOBS_TO_ANALYZE, 2 * this.analyzedJobCount)) {
      this.connection.exec('ANALYZE jobs');
      this.analyzedJobCount = this.jobCount;
    }
    return checkpoint;
  }

  close(): void {
    this.connection.close();
  }
}
