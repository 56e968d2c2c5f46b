import type Database from 'better-sqlite3';

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

  -- Commits refused by checkCommit (#domain), by position: never applied, kept with the job their
  -- subject names and why, for the operator (read-models-status) and so that a rebuild shows the same.
  CREATE TABLE IF NOT EXISTS quarantined_commits (
    position INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    reason TEXT NOT NULL
  );

  -- The position of the last commit applied or quarantined, written in the same transaction as its rows.
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
export function keepIndexesAsDefined(connection: Database.Database): void {
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

/** Drops every index, for `keepIndexesAsDefined` to make them again (a bulk load builds them at its end). */
export function dropIndexes(connection: Database.Database): void {
  for (const name of Object.keys(INDEXES)) connection.exec(`DROP INDEX ${name}`);
}

/** Brings a file to this version's schema: the missing tables, the indexes as defined, the counts of an older file. */
export function migrateSchema(connection: Database.Database): void {
  const counted = connection.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'job_counts'").get() !== undefined;
  connection.exec(SCHEMA);
  keepIndexesAsDefined(connection);
  // A file from before the counts: they start from its jobs.
  if (!counted)
    connection.exec('INSERT INTO job_counts (status, kind, jobs) SELECT status, kind, count(*) FROM jobs GROUP BY status, kind');
}
