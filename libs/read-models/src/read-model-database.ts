import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type JobEvent, type JobEventCommit, type JobKind, type JobStatus, type LogLevel } from '#contracts';
import { evolve, initialJobState, type JobState } from '#domain';
import { syncFile } from './durable-file.js';
import { isShown, logLine, type LogLine } from './job-log-lines.js';
import { dropIndexes, keepIndexesAsDefined, migrateSchema } from './read-model-schema.js';
import { RowInserter } from './row-inserter.js';

/**
 * Log entry ids are `position * LOG_IDS_PER_COMMIT + n`, n counting the entries of one commit:
 * they increase with the event stream and come out the same when the read models are rebuilt, so
 * a client's `after` stays valid across a rebuild. A commit holds at most a few events (a crossing
 * `reject` makes two), each writing at most one entry.
 */
export const LOG_IDS_PER_COMMIT = 1000;

/** Below this many jobs every plan is fast: the planner needs no statistics yet. */
const MIN_JOBS_TO_ANALYZE = 1000;

/**
 * The job list, logs and rejects in one SQLite file, fed with commits of the event store.
 * A batch of commits and the checkpoint are written in one transaction: after a crash at any
 * instant the file holds either all of a batch or none of it, and `applyCommits` skips what the
 * checkpoint says is already there, so resuming from `checkpoint()` loses nothing and repeats nothing.
 */
export class ReadModelDatabase {
  private readonly statements;
  private readonly applyBatch: (commits: readonly JobEventCommit[]) => { checkpoint: number; newJobs: number };
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
    this.statements = {
      readCheckpoint: connection.prepare<[], { position: number }>('SELECT position FROM checkpoint WHERE id = 1'),
      writeCheckpoint: connection.prepare<[number]>('UPDATE checkpoint SET position = ? WHERE id = 1'),
      readState: connection
        .prepare<[string], string>('SELECT state FROM job_states WHERE id = (SELECT id FROM jobs WHERE job_id = ?)')
        .pluck(),
      writeJob: connection
        .prepare<[string, JobStatus, string, string, string, string, string], number>(
          `INSERT INTO jobs (job_id, status, kind, created_by, created_at, updated_at, label_folded)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (job_id) DO UPDATE SET
             status = excluded.status, kind = excluded.kind, created_by = excluded.created_by,
             created_at = excluded.created_at, updated_at = excluded.updated_at, label_folded = excluded.label_folded
           RETURNING id`,
        )
        .pluck(),
      writeState: connection.prepare<[number, string]>('INSERT OR REPLACE INTO job_states (id, state) VALUES (?, ?)'),
      writeLabel: connection.prepare<[number, string]>('INSERT OR REPLACE INTO job_labels (rowid, label) VALUES (?, ?)'),
      addToCount: connection.prepare<[JobStatus, JobKind, number]>(
        'INSERT INTO job_counts (status, kind, jobs) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET jobs = jobs + excluded.jobs',
      ),
      writeLog: new RowInserter<[number, string, string, LogLevel, string, string, string]>(connection, 'job_logs', [
        'id',
        'job_id',
        'at',
        'level',
        'message',
        'event_type',
        'event_id',
      ]),
      writeReject: new RowInserter<[string, number, number, string, string, string]>(connection, 'job_rejects', [
        'job_id',
        'line',
        'ordinal',
        'reason',
        'record',
        'at',
      ]),
    };
    this.applyBatch = connection.transaction((commits: readonly JobEventCommit[]) => {
      try {
        return this.applyInTransaction(commits);
      } catch (error) {
        this.statements.writeLog.discard();
        this.statements.writeReject.discard();
        throw error;
      }
    });
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
    return this.statements.readCheckpoint.get()!.position;
  }

  /**
   * Applies commits in position order, all in one transaction with the new checkpoint, skipping
   * those at or below the checkpoint. Returns the checkpoint after the batch.
   */
  applyCommits(commits: readonly JobEventCommit[]): number {
    const { checkpoint, newJobs } = this.applyBatch(commits);
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

  private applyInTransaction(commits: readonly JobEventCommit[]): { checkpoint: number; newJobs: number } {
    const { writeCheckpoint, writeJob, writeState, writeLabel, addToCount, writeLog, writeReject } = this.statements;
    const applied = this.checkpoint();
    let checkpoint = applied;
    // A job's rows are written once per batch, however many of its commits the batch holds.
    const states = new Map<string, JobState>();
    /** Each job as the file has it (status null: no row yet). */
    const stored = new Map<string, JobState>();
    let newJobs = 0;
    for (const commit of commits) {
      if (commit.position <= checkpoint) continue;
      let state = states.get(commit.jobId);
      if (!state) {
        state = this.readState(commit.jobId);
        stored.set(commit.jobId, state);
      }
      let logIndex = 0;
      for (const event of commit.events) {
        state = evolve(state, event);
        // Events of a job whose Created event was never stored: there is no job to show them on.
        if (!isShown(state)) continue;
        const line = logLine(event, state);
        if (line) this.writeLog(event, line, commit.position * LOG_IDS_PER_COMMIT + logIndex++);
        if (event.type === 'RecordsRejected') this.writeRejects(event);
      }
      states.set(commit.jobId, state);
      checkpoint = commit.position;
    }
    // Labels go last: FTS5 writes its pending terms to disk at every statement savepoint (each
    // upsert opens one), so interleaved with the jobs' rows each label cost a tiny index segment.
    const labels: [number, string][] = [];
    const counts = new JobCountChanges();
    for (const state of states.values()) {
      if (state.status === null) continue;
      const label = state.label!.toLowerCase();
      const id = writeJob.get(state.jobId, state.status, state.kind!, state.createdBy!, state.createdAt!, state.updatedAt!, label)!;
      writeState.run(id, JSON.stringify(state));
      const before = stored.get(state.jobId)!;
      if (before.status === null) newJobs++;
      else counts.add(before.status, before.kind!, -1);
      counts.add(state.status, state.kind!, 1);
      if (before.label !== state.label) labels.push([id, label]);
    }
    // A bulk load indexes every label at once when it ends.
    if (!this.bulkLoading) for (const [id, label] of labels) writeLabel.run(id, label);
    for (const [status, kind, change] of counts.changes()) addToCount.run(status, kind, change);
    writeLog.flush();
    writeReject.flush();
    if (checkpoint !== applied) writeCheckpoint.run(checkpoint);
    return { checkpoint, newJobs };
  }

  private readState(jobId: string): JobState {
    const stored = this.statements.readState.get(jobId);
    return stored === undefined ? initialJobState(jobId) : (JSON.parse(stored) as JobState);
  }

  private writeLog(event: JobEvent, line: LogLine, id: number): void {
    this.statements.writeLog.add(id, event.jobId, event.at, line.level, line.message, event.type, event.eventId);
  }

  private writeRejects(event: JobEvent<'RecordsRejected'>): void {
    const { records, rejectedTotal } = event.data;
    const firstOrdinal = rejectedTotal - records.length + 1;
    records.forEach((rejected, index) => {
      this.statements.writeReject.add(
        event.jobId,
        rejected.line,
        firstOrdinal + index,
        rejected.reason,
        JSON.stringify(rejected.record),
        event.at,
      );
    });
  }
}

/** A batch's changes to the job counts, by status and kind. */
class JobCountChanges {
  private readonly byKey = new Map<string, [JobStatus, JobKind, number]>();

  add(status: JobStatus, kind: JobKind, change: number): void {
    const key = `${status} ${kind}`;
    const entry = this.byKey.get(key);
    if (entry) entry[2] += change;
    else this.byKey.set(key, [status, kind, change]);
  }

  /** The counts that change, by how much. */
  changes(): [JobStatus, JobKind, number][] {
    return [...this.byKey.values()].filter(([, , change]) => change !== 0);
  }
}
