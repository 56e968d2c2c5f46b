import { addAbortSignal } from 'node:stream';
import { sql } from 'kysely';
import type { RejectedRecordInput } from '#contracts';
import type { ExecutorJob, JobContext, JobHandler } from '#executor';
import { ensureCheckpointTable, type ImportCheckpoint, NO_CHECKPOINT, readCheckpoint, saveCheckpoint } from './checkpoints.js';
import { type BoundColumn, type ColumnValue, convertLine } from './columns.js';
import { readCsv, type CsvItem } from './csv-reader.js';
import { type AnyDatabase, checkTable, type DatabaseSettings, databaseError, type JobDatabase, openDatabase } from './database.js';
import { type ImportColumn, type ImportDefinition, parseImportDefinition } from './definitions.js';
import { WorkerError } from './errors.js';
import type { JobFiles, SourceFile } from './files.js';

export interface WorkerSettings {
  database: DatabaseSettings;
  files: JobFiles;
}

/** Under SQLite's 32,766 and PostgreSQL's 65,535 parameters a statement. */
const MAX_PARAMETERS = 30_000;
const MAX_REJECTED_FIELD = 1_000;

/**
 * Imports a CSV file into a table. Each batch of lines is written in one transaction with the job's
 * checkpoint row (job_import_checkpoints), so the database itself says which lines are in: a run
 * resumes after the last committed line, whatever stopped the one before.
 */
export function importHandler(settings: WorkerSettings): JobHandler {
  return async (job, context) => {
    const definition = parseImportDefinition(job.definition);
    const source = await settings.files.source(definition.source);
    const database = openDatabase(settings.database);
    try {
      await checkTable(
        database,
        definition.table,
        definition.columns.map((column) => column.name),
      );
      await ensureCheckpointTable(database.db).catch(databaseError('could not create the checkpoint table'));
      const checkpoint = await readCheckpoint(database.db, job.jobId).catch(databaseError('could not read the checkpoint'));
      return await new ImportRun(job, context, definition, source, database, checkpoint).run();
    } finally {
      await database.close();
    }
  };
}

/** Why a batch's transaction was rolled back: the job's signal fired while it was open. */
class Stopped extends Error {}

class ImportRun {
  private columns: BoundColumn[] | null = null;
  private header: string[] | null = null;
  private batch: { from: number; to: number; lines: number; rows: Line[]; rejects: RejectedRecordInput[] } | null = null;
  private checkpoint: ImportCheckpoint;
  private bytesRead = 0;
  private linesSeen = 0;

  constructor(
    private readonly job: ExecutorJob,
    private readonly context: JobContext,
    private readonly definition: ImportDefinition,
    private readonly source: SourceFile,
    private readonly database: JobDatabase,
    resumeAt: ImportCheckpoint | null,
  ) {
    this.checkpoint = resumeAt ?? NO_CHECKPOINT;
    if (!definition.csv.header) this.columns = definition.columns.map((column) => ({ ...column, index: (column.from as number) - 1 }));
  }

  async run(): Promise<{ processed: number; total: number } | undefined> {
    const { definition, context, checkpoint } = this;
    await context.log(
      'info',
      checkpoint.line > 0
        ? `Resuming the import of ${this.source.describe} into table ${definition.table} after line ${checkpoint.line} (${checkpoint.processed} lines done)`
        : `Importing ${this.source.describe} into table ${definition.table} (${definition.mode}, batches of ${definition.batchSize} lines)`,
    );
    const bytes = addAbortSignal(context.signal, this.source.open());
    bytes.on('data', (chunk: Buffer) => {
      this.bytesRead += chunk.length;
    });
    try {
      for await (const items of readCsv(bytes, definition.csv)) {
        for (const item of items) {
          if (!this.columns) this.bindHeader(item);
          else if (item.endLine > this.checkpoint.line) {
            this.add(item);
            if (this.batch!.lines >= definition.batchSize && !(await this.flush())) return undefined;
          } else this.linesSeen++;
        }
        if (context.signal.aborted) return undefined;
      }
    } catch (error) {
      if (context.signal.aborted) return undefined;
      throw error;
    }
    if (!(await this.flush())) return undefined;
    const { processed, written, rejected } = this.checkpoint;
    await context.log(
      'info',
      `Imported ${this.source.describe} into table ${definition.table}: ${written} rows written, ${rejected} lines rejected, ${processed} lines read`,
    );
    return { processed, total: processed };
  }

  private bindHeader(item: CsvItem): void {
    if ('error' in item) {
      throw new WorkerError('DEFINITION_INVALID', `the header line (line ${item.line}) does not parse: ${item.error}`);
    }
    const header = item.fields.map((field) => field.trim());
    this.header = header;
    this.columns = this.definition.columns.map((column: ImportColumn) => {
      const from = column.from ?? column.name;
      const index = typeof from === 'number' ? from - 1 : header.indexOf(from);
      if (index < 0 || index >= header.length) {
        throw new WorkerError(
          'COLUMN_NOT_FOUND',
          `the file's header has no column ${typeof from === 'number' ? `number ${from}` : `"${from}"`} for column "${column.name}": it has ${header.join(', ')}`,
        );
      }
      return { ...column, index };
    });
  }

  private add(item: CsvItem): void {
    this.linesSeen++;
    this.batch ??= { from: item.line, to: item.endLine, lines: 0, rows: [], rejects: [] };
    const batch = this.batch;
    batch.to = item.endLine;
    batch.lines++;
    if ('error' in item) {
      batch.rejects.push({ line: item.line, reason: `the line does not parse: ${item.error}`, record: item.text });
      return;
    }
    if (this.header && item.fields.length !== this.header.length) {
      batch.rejects.push({
        line: item.line,
        reason: `the line has ${item.fields.length} fields where the header has ${this.header.length}`,
        record: this.recordOf(item.fields),
      });
      return;
    }
    const converted = convertLine(this.columns!, item.fields);
    if (converted.ok) batch.rows.push({ line: item.line, fields: item.fields, row: converted.row });
    else batch.rejects.push({ line: item.line, reason: converted.reason.slice(0, 2000), record: this.recordOf(item.fields) });
  }

  /** A rejected line as the Rejects tab shows it: by header name when there is a header. */
  private recordOf(fields: string[]): string[] | Record<string, string> {
    const cut = fields.map((field) => (field.length > MAX_REJECTED_FIELD ? `${field.slice(0, MAX_REJECTED_FIELD)}…` : field));
    const header = this.header;
    if (!header) return cut;
    return Object.fromEntries(cut.map((field, index) => [header[index] ?? `column ${index + 1}`, field]));
  }

  /**
   * Sends the batch's rejects, then commits its rows with the checkpoint. The rejects go first, under
   * a key that names the batch's lines: a run that stops before the commit sends them again on resume,
   * and they count once. False when the job's signal fired: the batch is not written.
   */
  private async flush(): Promise<boolean> {
    const batch = this.batch;
    const { context, job } = this;
    if (!batch) return !context.signal.aborted;
    if (batch.rejects.length) await context.reject(batch.rejects, { key: `${job.jobId}:lines:${batch.from}-${batch.to}` });
    if (context.signal.aborted) return false;
    const lines = this.definition.mode === 'upsert' ? lastOfEachKey(batch.rows, this.definition.key!) : batch.rows;
    let next = this.checkpoint;
    try {
      await this.database.db.transaction().execute(async (transaction) => {
        const refused = await this.writeLines(transaction, lines);
        // Known only now, so sent with the transaction open; the same lines are refused again by a resumed run.
        if (refused.length) await context.reject(refused, { key: `${job.jobId}:lines:${batch.from}-${batch.to}:database` });
        next = {
          line: batch.to,
          processed: this.checkpoint.processed + batch.lines,
          written: this.checkpoint.written + lines.length - refused.length,
          rejected: this.checkpoint.rejected + batch.rejects.length + refused.length,
        };
        await saveCheckpoint(transaction, job.jobId, next);
        if (context.signal.aborted) throw new Stopped();
      });
    } catch (error) {
      if (error instanceof Stopped) return false;
      databaseError(`could not write lines ${batch.from} to ${batch.to} into table ${this.definition.table} (the lines before are in)`)(
        error,
      );
    }
    this.checkpoint = next;
    this.batch = null;
    const total = this.estimatedTotal();
    await context.checkpoint({ line: next.line }, next.processed, total);
    context.progress(next.processed, total);
    return true;
  }

  /**
   * Writes the lines; when the database refuses the batch for a row's sake (a constraint, a value the
   * column cannot hold), writes them one by one and returns the lines it refuses as rejects.
   */
  private async writeLines(db: AnyDatabase, lines: Line[]): Promise<RejectedRecordInput[]> {
    if (!lines.length) return [];
    await sql`savepoint batch`.execute(db);
    try {
      await this.write(
        db,
        lines.map((line) => line.row),
      );
      await sql`release savepoint batch`.execute(db);
      return [];
    } catch (error) {
      if (!refusesRow(error)) throw error;
      await sql`rollback to savepoint batch`.execute(db);
    }
    const refused: RejectedRecordInput[] = [];
    for (const line of lines) {
      await sql`savepoint line`.execute(db);
      try {
        await this.write(db, [line.row]);
        await sql`release savepoint line`.execute(db);
      } catch (error) {
        if (!refusesRow(error)) throw error;
        await sql`rollback to savepoint line`.execute(db);
        const reason = `the database refused the line: ${(error as Error).message}`.slice(0, 2000);
        refused.push({ line: line.line, reason, record: this.recordOf(line.fields) });
      }
    }
    return refused;
  }

  private async write(db: AnyDatabase, rows: Record<string, ColumnValue>[]): Promise<void> {
    if (!rows.length) return;
    const { table, mode, key } = this.definition;
    const columns = this.definition.columns.map((column) => column.name);
    const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
    const updated = columns.filter((column) => !key?.includes(column));
    for (let start = 0; start < rows.length; start += perStatement) {
      const values = rows.slice(start, start + perStatement).map((row) => {
        const converted: Record<string, ColumnValue> = {};
        for (const column of columns) converted[column] = this.database.toDriver(row[column] ?? null);
        return converted;
      });
      let insert = db.insertInto(table).values(values);
      if (mode === 'upsert') {
        insert = insert.onConflict((conflict) => {
          const onKey = conflict.columns(key!);
          return updated.length
            ? onKey.doUpdateSet((update) => Object.fromEntries(updated.map((column) => [column, update.ref(`excluded.${column}`)])))
            : onKey.doNothing();
        });
      }
      await insert.execute();
    }
  }

  /**
   * The file's lines estimated from the share of its bytes read so far (lines seen × size ÷ bytes
   * read); unknown for an empty file. The last progress of the run gives the exact count.
   */
  private estimatedTotal(): number | undefined {
    if (this.source.size <= 0 || this.bytesRead <= 0) return undefined;
    return Math.max(
      this.checkpoint.processed,
      Math.round((this.linesSeen * this.source.size) / Math.min(this.bytesRead, this.source.size)),
    );
  }
}

/** A valid line of the batch: its row, and its fields for a reject should the database refuse it. */
interface Line {
  line: number;
  fields: string[];
  row: Record<string, ColumnValue>;
}

/** Upsert: one row a key in a statement (PostgreSQL refuses to update a row twice in one); the later line wins, as it would line by line. */
function lastOfEachKey(lines: Line[], key: string[]): Line[] {
  const byKey = new Map<string, Line>();
  for (const line of lines) {
    const id = JSON.stringify(key.map((column) => line.row[column]));
    byKey.delete(id);
    byKey.set(id, line);
  }
  return [...byKey.values()];
}

/**
 * Whether the database refused a statement for what a row holds, rather than for the table or the
 * connection: PostgreSQL's data exceptions (SQLSTATE class 22) and integrity violations (23), SQLite's
 * constraint and type errors.
 */
function refusesRow(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return /^2[23][0-9A-Z]{3}$/.test(code) || code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG';
}
