import type Database from 'better-sqlite3';
import { syncFile } from './durable-file.js';
import type { PlannerStatistics } from './planner-statistics.js';
import { dropIndexes, keepIndexesAsDefined } from './read-model-schema.js';

/**
 * A bulk load (a rebuild) fills a new file that nothing reads before it ends, and that is thrown
 * away if it fails: until then it writes with no fsync, no journal, no secondary index and no label
 * index, which are built at once at the end rather than kept up to date row by row.
 */
export function startBulkLoadMode(connection: Database.Database): void {
  connection.pragma('synchronous = OFF');
  // The file was opened with the indexes as defined; `endBulkLoadMode` makes them again.
  dropIndexes(connection);
  // No journal file either: nothing is to be rolled back on disk, as a failed load is thrown away.
  connection.pragma('journal_mode = MEMORY');
}

/** Builds the indexes the bulk load deferred, labels included, with fresh planner statistics, and makes writes durable again. */
export function endBulkLoadMode(connection: Database.Database, file: string, statistics: PlannerStatistics): void {
  connection.exec('INSERT INTO job_labels (rowid, label) SELECT id, label_folded FROM jobs');
  keepIndexesAsDefined(connection);
  statistics.gather();
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  // The load wrote without syncing: its pages reach the disk before the file is handed over, or a
  // power cut after a rebuild's swap could leave the file in use half written.
  syncFile(file);
}
