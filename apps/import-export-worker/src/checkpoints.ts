import type { AnyDatabase } from './database.js';

/** The table, in the target database, where each import job's progress is committed with its rows. */
export const CHECKPOINT_TABLE = 'job_import_checkpoints';

/** How far an import got: every line up to `line` is in the table or was rejected. */
export interface ImportCheckpoint {
  line: number;
  /** Data lines read (written or rejected). */
  processed: number;
  /** Rows written (upsert: distinct keys of each batch). */
  written: number;
  rejected: number;
}

export const NO_CHECKPOINT: ImportCheckpoint = { line: 0, processed: 0, written: 0, rejected: 0 };

export async function ensureCheckpointTable(db: AnyDatabase): Promise<void> {
  const create = () =>
    db.schema
      .createTable(CHECKPOINT_TABLE)
      .ifNotExists()
      .addColumn('job_id', 'varchar(128)', (column) => column.primaryKey())
      .addColumn('line', 'bigint', (column) => column.notNull())
      .addColumn('processed', 'bigint', (column) => column.notNull())
      .addColumn('written', 'bigint', (column) => column.notNull())
      .addColumn('rejected', 'bigint', (column) => column.notNull())
      .addColumn('updated_at', 'varchar(40)', (column) => column.notNull())
      .execute();
  // Two jobs creating it at once: PostgreSQL may refuse the second "if not exists"; it exists then.
  await create().catch(create);
}

export async function readCheckpoint(db: AnyDatabase, jobId: string): Promise<ImportCheckpoint | null> {
  const row = await db.selectFrom(CHECKPOINT_TABLE).selectAll().where('job_id', '=', jobId).executeTakeFirst();
  if (!row) return null;
  // PostgreSQL's bigint comes back as a string.
  return { line: Number(row.line), processed: Number(row.processed), written: Number(row.written), rejected: Number(row.rejected) };
}

export async function saveCheckpoint(db: AnyDatabase, jobId: string, checkpoint: ImportCheckpoint): Promise<void> {
  const values = { ...checkpoint, updated_at: new Date().toISOString() };
  await db
    .insertInto(CHECKPOINT_TABLE)
    .values({ job_id: jobId, ...values })
    .onConflict((conflict) => conflict.column('job_id').doUpdateSet(values))
    .execute();
}
