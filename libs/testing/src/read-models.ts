import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EventStore } from '#event-store';
import { ReadModelDatabase } from '#read-models';

export interface ReadModelRows {
  /** Tables and indexes, so that a rebuilt file is shown to have every index too. */
  schema: unknown[];
  checkpoint: number;
  jobs: unknown[];
  /** The kept job counts that are not zero (a count back at zero may stay as a row or not). */
  counts: unknown[];
  logs: unknown[];
  rejects: unknown[];
  /** The label index's entries: each trigram where it is in which job's label. */
  labels: unknown[];
  /** The commits refused, with their job and reason. */
  quarantined: unknown[];
}

/** Every row of a read-model file, in a stable order, to compare two files row for row. */
export function readModelRows(file: string): ReadModelRows {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      schema: db.prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all(),
      checkpoint: (db.prepare('SELECT position FROM checkpoint').get() as { position: number }).position,
      jobs: db.prepare('SELECT jobs.*, job_states.state FROM jobs JOIN job_states ON job_states.id = jobs.id ORDER BY job_id').all(),
      counts: db.prepare('SELECT * FROM job_counts WHERE jobs <> 0 ORDER BY status, kind').all(),
      logs: db.prepare('SELECT * FROM job_logs ORDER BY id').all(),
      rejects: db.prepare('SELECT * FROM job_rejects ORDER BY job_id, line, ordinal').all(),
      labels: labelIndex(db),
      quarantined: db.prepare('SELECT * FROM quarantined_commits ORDER BY position').all(),
    };
  } finally {
    db.close();
  }
}

/** The label index holds no text to select: its vocabulary, instance by instance, is what it holds. */
function labelIndex(db: Database.Database): unknown[] {
  db.exec("CREATE VIRTUAL TABLE temp.label_terms USING fts5vocab(main, 'job_labels', 'instance')");
  return db.prepare('SELECT doc, term, "offset" FROM temp.label_terms ORDER BY doc, "offset", term').all();
}

/** The read-model file a query instance uses under its data folder. */
export function activeReadModelFile(dataDir: string, stream: string): string {
  const folder = path.join(dataDir, 'read-models', stream);
  const marker = path.join(folder, 'active');
  return path.join(folder, existsSync(marker) ? readFileSync(marker, 'utf8').trim() : 'read-models.sqlite');
}

/** Reference read models: every commit of the store applied in one go, in this process. */
export async function referenceReadModels(store: EventStore, file: string): Promise<ReadModelRows> {
  const db = ReadModelDatabase.open(file);
  try {
    const batches = [];
    for await (const batch of store.subscribe({ afterPosition: 0, live: false })) batches.push(batch);
    db.applyCommits(batches.flat());
  } finally {
    db.close();
  }
  return readModelRows(file);
}
