import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { EncodedJobEventCommit } from '#contracts';
import { CommitApplier, type AppliedBatch } from './commit-applier.js';
import { PlannerStatistics } from './planner-statistics.js';
import { QuarantinedCommits, type QuarantineSummary } from './quarantined-commits.js';
import { endBulkLoadMode, startBulkLoadMode } from './read-model-bulk-load-mode.js';
import { migrateSchema } from './read-model-schema.js';

/**
 * The job list, logs and rejects in one SQLite file, fed with commits of the event store.
 * A batch of commits and the checkpoint are written in one transaction: after a crash at any
 * instant the file holds either all of a batch or none of it, and `applyCommits` skips what the
 * checkpoint says is already there, so resuming from `checkpoint()` loses nothing and repeats nothing.
 */
export class ReadModelDatabase {
  private readonly commits: CommitApplier;
  private readonly quarantined: QuarantinedCommits;
  private readonly statistics: PlannerStatistics;
  /** True between `openForBulkLoad` and `endBulkLoad`: the indexes are dropped, to be built at the end. */
  private bulkLoading = false;

  private constructor(
    /** The file, for readers that need their own connection (a long export). */
    readonly file: string,
    readonly connection: Database.Database,
  ) {
    this.quarantined = new QuarantinedCommits(connection);
    this.commits = new CommitApplier(connection, this.quarantined);
    this.statistics = new PlannerStatistics(connection);
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
   * Opens a new file for a bulk load (a rebuild), in bulk-load mode until `endBulkLoad`: not for
   * queries before then.
   */
  static openForBulkLoad(file: string): ReadModelDatabase {
    const database = ReadModelDatabase.open(file);
    if (database.checkpoint() !== 0) {
      database.close();
      throw new Error(`a bulk load fills a new file, and ${file} already holds read models`);
    }
    startBulkLoadMode(database.connection);
    database.bulkLoading = true;
    return database;
  }

  /** Ends the bulk-load mode (`endBulkLoadMode`): from then on the file is ready for queries and durable. */
  endBulkLoad(): void {
    endBulkLoadMode(this.connection, this.file, this.statistics);
    this.bulkLoading = false;
  }

  /** Position of the last commit applied (0 for an empty read model). */
  checkpoint(): number {
    return this.commits.checkpoint();
  }

  /**
   * Applies commits in position order, all in one transaction with the new checkpoint, skipping
   * those at or below the checkpoint and quarantining those that fail their check. Returns the
   * checkpoint after the batch, the events applied and the commits quarantined.
   */
  applyCommits(commits: readonly EncodedJobEventCommit[]): AppliedCommits {
    const { newJobs, ...applied } = this.commits.apply(commits, { indexLabels: !this.bulkLoading });
    this.statistics.addJobs(newJobs);
    // A bulk load has no index to plan with yet: `endBulkLoad` gathers the statistics once.
    if (!this.bulkLoading) this.statistics.refreshIfOutgrown();
    return applied;
  }

  /** How many commits the read models quarantined, and the last one. */
  quarantine(): QuarantineSummary {
    return this.quarantined.summary();
  }

  close(): void {
    this.connection.close();
  }
}

/** What `applyCommits` did: the checkpoint after the batch, the events applied, the commits quarantined. */
export type AppliedCommits = Omit<AppliedBatch, 'newJobs'>;
