import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type JobEvent, type JobEventCommit, type JobKind, type JobStatus, type LogLevel } from '#contracts';
import { evolve, initialJobState, type JobState } from '#domain';
import { syncFile } from './durable-file.js';
import { isShown, logLine, type LogLine } from './job-log-lines.js';
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

/** The condition of the partial index on log levels: a query that means to use it writes it as is. */
export const NOTABLE_LEVELS = "level <> 'info'";

const SCHEMA = `
  -- One row per job, narrow so that filters scan it fast. Its columns are copies of the job's state
  -- (job_states), the only source of the job's fields, kept for indexes.
  CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    label_folded TEXT NOT NULL
  );
  -- How many jobs have each status and kind: a list filtered by these alone (or not at all) reads
  -- its total here instead of counting up to every job.
  CREATE TABLE IF NOT EXISTS job_counts (
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    jobs INTEGER NOT NULL,
    PRIMARY KEY (status, kind)
  ) WITHOUT ROWID;
  -- The domain's JobState as JSON, by jobs.id.
  CREATE TABLE IF NOT EXISTS job_states (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL
  );
  -- Trigrams of the lower-cased labels, by jobs.id: finds the few jobs whose label contains a text
  -- without reading every label.
  CREATE VIRTUAL TABLE IF NOT EXISTS job_labels USING fts5(label, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1');

  -- id is the rowid: entries are appended in id order, and an index on (job_id) is ordered by id within a job.
  CREATE TABLE IF NOT EXISTS job_logs (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    at TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT NOT NULL
  );

  -- ordinal: the record's rank among the job's rejects (1, 2, ...), which orders a line rejected twice.
  CREATE TABLE IF NOT EXISTS job_rejects (
    job_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    reason TEXT NOT NULL,
    record TEXT NOT NULL,
    at TEXT NOT NULL
  );

  -- The position of the last commit applied, written in the same transaction as that commit's rows.
  CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO checkpoint (id, position) VALUES (1, 0);
`;

/**
 * The indexes, by name. A file opened with other definitions (from an earlier version) has them
 * rebuilt to these, and indexes no longer listed dropped.
 */
const INDEXES: Record<string, string> = {
  // job_id ends every key of the job list so that pages follow a total order (the keyset cursor's
  // tiebreak). Filter columns after it make counting the matches of several filters read the index
  // alone, not a row of the table per job.
  jobs_by_created: 'jobs (created_at, job_id)',
  jobs_by_updated: 'jobs (updated_at, job_id)',
  jobs_by_status_created: 'jobs (status, created_at, job_id, kind)',
  jobs_by_status_updated: 'jobs (status, updated_at, job_id)',
  jobs_by_creator_created: 'jobs (created_by, created_at, job_id, kind, status)',
  jobs_by_kind_created: 'jobs (kind, created_at, job_id)',
  // Counting the jobs whose label contains a common text reads this, much smaller than the table.
  jobs_by_label: 'jobs (label_folded)',
  // id is job_logs' rowid: a job's entries come out in id order.
  job_logs_by_job: 'job_logs (job_id)',
  // Each job's warnings and errors, in id order: a level filter without info reads only these. Most
  // entries are info, so a filter with info reads job_logs_by_job. A query that means to use this
  // index repeats its condition word for word.
  job_logs_notable_by_job: `job_logs (job_id) WHERE ${NOTABLE_LEVELS}`,
  job_rejects_by_job_line: 'job_rejects (job_id, line, ordinal)',
};
const UNIQUE_INDEXES = new Set(['job_rejects_by_job_line']);

/** Creates the missing indexes, rebuilds those defined otherwise and drops those no longer listed. */
function keepIndexesAsDefined(connection: Database.Database): void {
  const existing = new Map(
    connection.prepare<[], [string, string]>("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL").raw().all(),
  );
  for (const [name, definition] of Object.entries(INDEXES)) {
    const sql = `CREATE ${UNIQUE_INDEXES.has(name) ? 'UNIQUE ' : ''}INDEX ${name} ON ${definition}`;
    if (existing.get(name) === sql) continue;
    if (existing.has(name)) connection.exec(`DROP INDEX ${name}`);
    connection.exec(sql);
  }
  for (const name of existing.keys()) if (!Object.hasOwn(INDEXES, name)) connection.exec(`DROP INDEX ${name}`);
}

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
      const counted = connection.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'job_counts'").get() !== undefined;
      connection.exec(SCHEMA);
      keepIndexesAsDefined(connection);
      // A file from before the counts: they start from its jobs.
      if (!counted)
        connection.exec('INSERT INTO job_counts (status, kind, jobs) SELECT status, kind, count(*) FROM jobs GROUP BY status, kind');
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
    for (const name of Object.keys(INDEXES)) database.connection.exec(`DROP INDEX ${name}`);
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
