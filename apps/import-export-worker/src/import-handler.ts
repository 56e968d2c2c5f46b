import { addAbortSignal } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { sql } from 'kysely';
import type { RejectedRecordInput } from '#contracts';
import type { ExecutorJob, JobContext, JobHandler } from '#executor';
import { ensureCheckpointTable, type ImportCheckpoint, NO_CHECKPOINT, readCheckpoint, saveCheckpoint } from './checkpoints.js';
import { type BoundColumn, convertLine, type RowValues, rowObject } from './columns.js';
import { copyBuffers } from './copy-text.js';
import { type CsvItem, type Lane, readCsv, splitCsv } from './csv-reader.js';
import { type AnyDatabase, checkTable, type DatabaseSettings, databaseError, type JobDatabase, openDatabase } from './database.js';
import { type ImportColumn, type ImportDefinition, parseImportDefinition } from './definitions.js';
import { WorkerError } from './errors.js';
import type { JobFiles, SourceFile } from './files.js';
import { csvTextForm, type TextForm, UTF8_BYTES } from './text-form.js';
import { isVerbatim, lineEnd, type VerbatimPlan, verbatimPlan } from './verbatim-lines.js';

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
      const sqlTypes = await checkTable(
        database,
        definition.table,
        definition.columns.map((column) => column.name),
      );
      await ensureCheckpointTable(database.db).catch(databaseError('could not create the checkpoint table'));
      const checkpoint = await readCheckpoint(database.db, job.jobId).catch(databaseError('could not read the checkpoint'));
      // Batches commit without waiting for the disk: a crash of PostgreSQL can lose the last ones,
      // rows and checkpoint together, which a resume writes again; the run ends by a commit that waits.
      if (database.dialect === 'postgres') await sql`set synchronous_commit = off`.execute(database.db);
      return await new ImportRun(job, context, definition, source, database, sqlTypes, checkpoint).run();
    } finally {
      await database.close();
    }
  };
}

/** Lines of the file whose rejects go in one command when the job has a reject limit. */
const REJECT_GROUP_LINES = 1_000;

/** Why a batch's transaction was rolled back: the job's signal fired while it was open. */
class Stopped extends Error {}

/**
 * How often the job's checkpoint follows the database's. A run resumes from the database's, which
 * each batch commits; the job's is for people (the console's "where it stopped") and is also sent
 * when the run ends.
 */
const CHECKPOINT_REPORT_INTERVAL_MS = 1_000;

/** Lines read but not yet written: a batch, from the first line of the file it holds to the last. */
interface Batch {
  from: number;
  to: number;
  lines: number;
  /** Its valid lines but those that go verbatim. */
  rows: Line[];
  /** The bytes of its lines that go verbatim (see VerbatimPlan), adjacent lines in one run. */
  verbatim: VerbatimRun[];
  verbatimLines: number;
  rejects: RejectedRecordInput[];
}

/** Lines that follow one another in the file and in one of its pieces, one physical line each. */
interface VerbatimRun {
  bytes: Buffer;
  start: number;
  end: number;
  firstLine: number;
}

class ImportRun {
  private columns: BoundColumn[] | null = null;
  /** Null when no line can go verbatim: not PostgreSQL's COPY, or not a UTF-8 file whose fields are the table's columns. */
  private verbatim: VerbatimPlan | null = null;
  /** The plan's fast lane through the file's lines, when it has one. */
  private lane: Lane | null = null;
  private readonly columnNames: string[];
  private readonly form: TextForm;
  private header: string[] | null = null;
  private batch: Batch | null = null;
  private readonly resumeAfter: number;
  private checkpoint: ImportCheckpoint;
  /**
   * The batch being written while the next one is read (one at a time: false when it stopped on the
   * signal). A failure is seen when the next batch awaits it; the catch only keeps it from counting
   * as unhandled meanwhile.
   */
  private writing: Promise<boolean> = Promise.resolve(true);
  private checkpointReportedAt = 0;
  private checkpointReported = 0;
  private bytesRead = 0;
  private linesSeen = 0;

  constructor(
    private readonly job: ExecutorJob,
    private readonly context: JobContext,
    private readonly definition: ImportDefinition,
    private readonly source: SourceFile,
    private readonly database: JobDatabase,
    private readonly sqlTypes: ReadonlyMap<string, string>,
    resumeAt: ImportCheckpoint | null,
  ) {
    this.checkpoint = resumeAt ?? NO_CHECKPOINT;
    this.resumeAfter = this.checkpoint.line;
    this.columnNames = definition.columns.map((column) => column.name);
    this.form = csvTextForm(definition.csv);
    if (!definition.csv.header) this.bind(definition.columns.map((column) => ({ ...column, index: (column.from as number) - 1 })));
  }

  private bind(columns: BoundColumn[]): void {
    this.columns = columns;
    const copied = this.database.copyInto && this.definition.mode === 'insert' && this.form === UTF8_BYTES;
    const plan = copied ? verbatimPlan(columns, this.header?.length ?? null, this.sqlTypes, this.definition.csv) : null;
    const checks = plan?.lane;
    this.verbatim = plan;
    this.lane = plan && checks ? (text, start) => lineEnd(plan, checks, text, start) : null;
  }

  async run(): Promise<{ processed: number; total: number } | undefined> {
    try {
      return await this.readAndWrite();
    } finally {
      // Whatever ended the run, the batch in flight commits or rolls back before the connection closes.
      await this.writing.catch(() => undefined);
    }
  }

  private async readAndWrite(): Promise<{ processed: number; total: number } | undefined> {
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
      for await (const piece of readCsv(bytes, definition.csv, () => this.lane)) {
        const { items, spans } = piece;
        for (let k = 0; k < items.length; k++) {
          const item = items[k]!;
          if (!this.columns) this.bindHeader(item);
          else if (item.endLine > this.resumeAfter) {
            if (spans && spans[2 * k]! >= 0) this.add(item, piece.bytes, spans[2 * k]!, spans[2 * k + 1]!);
            else this.add(item, null, -1, -1);
            if (this.batch!.lines >= definition.batchSize && !(await this.writeBatch())) return await this.stopped();
          } else this.linesSeen++;
        }
        if (context.signal.aborted) return await this.stopped();
        // The batch being written moves a step (its statements' replies) between two pieces of the file.
        await setImmediate();
      }
    } catch (error) {
      if (context.signal.aborted) return await this.stopped();
      throw error;
    }
    if (!(await this.writeBatch()) || !(await this.writing)) return await this.stopped();
    await this.commitDurably();
    const { processed, written, rejected, line } = this.checkpoint;
    await context.checkpoint({ line }, processed, processed);
    await context.log(
      'info',
      `Imported ${this.source.describe} into table ${definition.table}: ${written} rows written, ${rejected} lines rejected, ${processed} lines read`,
    );
    return { processed, total: processed };
  }

  /** On PostgreSQL, the checkpoint again in a commit that waits for the disk, and so for every batch before. */
  private async commitDurably(): Promise<void> {
    if (this.database.dialect !== 'postgres') return;
    await this.database.db
      .transaction()
      .execute(async (transaction) => {
        await sql`set local synchronous_commit = on`.execute(transaction);
        await saveCheckpoint(transaction, this.job.jobId, this.checkpoint);
      })
      .catch(databaseError('could not commit the last lines'));
  }

  /** The signal fired: once the batch in flight settles, the job's checkpoint says what the database holds, on disk. */
  private async stopped(): Promise<undefined> {
    await this.writing.catch(() => undefined);
    // What the job then says is in is on disk; a resume reads the database's checkpoint anyway.
    if (this.checkpoint.line > this.resumeAfter) await this.commitDurably().catch(() => undefined);
    const { line, processed } = this.checkpoint;
    if (line > this.resumeAfter && line !== this.checkpointReported)
      await this.context.checkpoint({ line }, processed, this.estimatedTotal()).catch(() => undefined);
    return undefined;
  }

  private bindHeader(item: CsvItem): void {
    // Never taken by the lane, which has no plan before the header.
    if (!('fields' in item)) {
      throw new WorkerError(
        'DEFINITION_INVALID',
        `the header line (line ${item.line}) does not parse: ${'error' in item ? item.error : ''}`,
      );
    }
    const header = item.fields.map((field) => this.form.decode(field).trim());
    this.header = header;
    const columns = this.definition.columns.map((column: ImportColumn) => {
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
    this.bind(columns);
  }

  /** A record of the file into the batch; with its bytes (`start` to `end` of `bytes`) when a piece of the file held it whole. */
  private add(item: CsvItem, bytes: Buffer | null, start: number, end: number): void {
    this.linesSeen++;
    this.batch ??= { from: item.line, to: item.endLine, lines: 0, rows: [], verbatim: [], verbatimLines: 0, rejects: [] };
    const batch = this.batch;
    batch.to = item.endLine;
    batch.lines++;
    if ('taken' in item) {
      this.addVerbatim(batch, item.line, bytes!, start, end);
      return;
    }
    if ('error' in item) {
      batch.rejects.push({ line: item.line, reason: `the line does not parse: ${item.error}`, record: this.form.decode(item.text) });
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
    const converted = convertLine(this.columns!, item.fields, this.form);
    if (!converted.ok) {
      batch.rejects.push({ line: item.line, reason: converted.reason.slice(0, 2000), record: this.recordOf(item.fields) });
      return;
    }
    if (bytes !== null && this.verbatim !== null && item.endLine === item.line && isVerbatim(this.verbatim, item.fields, converted.values))
      this.addVerbatim(batch, item.line, bytes, start, end);
    else batch.rows.push({ line: item.line, fields: item.fields, values: converted.values });
  }

  private addVerbatim(batch: Batch, line: number, bytes: Buffer, start: number, end: number): void {
    batch.verbatimLines++;
    const last = batch.verbatim.at(-1);
    if (last && last.bytes === bytes && last.end === start) last.end = end;
    else batch.verbatim.push({ bytes, start, end, firstLine: line });
  }

  /**
   * The batch's verbatim lines split and converted again, for the line by line way: needed only
   * when the database refused the batch, so not kept meanwhile.
   */
  private linesOfRuns(batch: Batch): Line[] {
    const { delimiter, quote } = this.definition.csv;
    const lines: Line[] = [];
    for (const run of batch.verbatim) {
      splitCsv(run.bytes.toString('latin1', run.start, run.end), delimiter, quote).forEach((item, k) => {
        const line = run.firstLine + k;
        const converted = 'fields' in item ? convertLine(this.columns!, item.fields, this.form) : null;
        if (!converted?.ok || !('fields' in item)) throw new Error(`line ${line} went verbatim but does not read again as valid`);
        lines.push({ line, fields: item.fields, values: converted.values });
      });
    }
    return lines;
  }

  /** A rejected line as the Rejects tab shows it: by header name when there is a header. */
  private recordOf(fields: string[]): string[] | Record<string, string> {
    const cut = fields.map((held) => {
      const field = this.form.decode(held);
      return field.length > MAX_REJECTED_FIELD ? `${field.slice(0, MAX_REJECTED_FIELD)}…` : field;
    });
    const header = this.header;
    if (!header) return cut;
    return Object.fromEntries(cut.map((field, index) => [header[index] ?? `column ${index + 1}`, field]));
  }

  /**
   * Sends the rejects of the batch read, waits for the batch before to be written, then starts
   * writing this one and returns while it is written: the next batch is read meanwhile. The rejects
   * go under a key that names the batch's lines, so that a run that stops before the batch's commit
   * sends them again on resume and they count once. False when the signal fired.
   */
  private async writeBatch(): Promise<boolean> {
    const batch = this.batch;
    this.batch = null;
    const key = batch && `${this.job.jobId}:lines:${batch.from}-${batch.to}`;
    // Sent while the batch before is written, and awaited before this one's commit.
    const rejected = batch ? this.sendRejects(batch, key!) : Promise.resolve();
    rejected.catch(() => undefined);
    if (!(await this.writing) || this.context.signal.aborted) return false;
    if (batch) {
      const writing = this.write(batch, key!, rejected);
      writing.catch(() => undefined);
      this.writing = writing;
    }
    return !this.context.signal.aborted;
  }

  /**
   * The batch's rejects in one command (or a few, for the payload limit); for a job with a reject
   * limit, a command for each REJECT_GROUP_LINES lines, so that the job passes its limit by one
   * group's rejects at most, whatever the batch size. Groups are told by line, and the limit cannot
   * change while the job runs, so that a resumed run sends the same groups under the same keys.
   */
  private sendRejects(batch: Batch, key: string): Promise<void> {
    const groupLines = this.job.rejectPolicy.maxRejects === null ? Number.POSITIVE_INFINITY : REJECT_GROUP_LINES;
    const groups = new Map<number, RejectedRecordInput[]>();
    for (const reject of batch.rejects) {
      const group = Math.floor((reject.line - batch.from) / groupLines);
      const records = groups.get(group);
      if (records) records.push(reject);
      else groups.set(group, [reject]);
    }
    const sent = [...groups].map(([group, records]) => this.context.reject(records, { key: `${key}:${group}` }));
    return Promise.all(sent).then(() => undefined);
  }

  /** Commits the batch's rows with the checkpoint, once its rejects are recorded. False when the job's signal fired: the batch is not written. */
  private async write(batch: Batch, key: string, rejected: Promise<void>): Promise<boolean> {
    const { context } = this;
    const lines = this.definition.mode === 'upsert' ? this.lastOfEachKey(batch.rows) : batch.rows;
    const count = lines.length + batch.verbatimLines;
    try {
      try {
        this.checkpoint = await this.commit(batch, count, rejected, async (transaction) => {
          await this.writeRows(transaction, batch, lines);
          return [];
        });
      } catch (error) {
        if (!refusesRow(error)) throw error;
        // Refused for a row's sake (a constraint, a value the column cannot hold): the batch again, line by line.
        this.checkpoint = await this.commit(batch, count, rejected, async (transaction) => {
          const all = batch.verbatimLines ? [...this.linesOfRuns(batch), ...lines].sort((a, b) => a.line - b.line) : lines;
          const refused = await this.writeLineByLine(transaction, all);
          // Known only now, so sent with the transaction open; the same lines are refused again by a resumed run.
          if (refused.length) await context.reject(refused, { key: `${key}:database` });
          return refused;
        });
      }
    } catch (error) {
      // Stopped, or the rejects ended the job (past its limit): the signal fired, the batch is not in.
      if (error instanceof Stopped || context.signal.aborted) return false;
      // The rejects' own failure is the job's as it is, not the database's.
      await rejected;
      databaseError(`could not write lines ${batch.from} to ${batch.to} into table ${this.definition.table} (the lines before are in)`)(
        error,
      );
    }
    this.report();
    return true;
  }

  /** The job's progress after a batch; its checkpoint at most once a CHECKPOINT_REPORT_INTERVAL_MS. */
  private report(): void {
    const { line, processed } = this.checkpoint;
    const total = this.estimatedTotal();
    const now = Date.now();
    if (now - this.checkpointReportedAt < CHECKPOINT_REPORT_INTERVAL_MS) {
      this.context.progress(processed, total);
      return;
    }
    this.checkpointReportedAt = now;
    this.checkpointReported = line;
    // Not awaited: the database holds the checkpoint a run resumes from; a failure here loses none.
    this.context.checkpoint({ line }, processed, total).catch(() => undefined);
  }

  /** One transaction: the batch's `count` lines to write as `writeLines` writes them, and the checkpoint after them; the checkpoint committed. */
  private async commit(
    batch: Batch,
    count: number,
    rejected: Promise<void>,
    writeLines: (transaction: AnyDatabase) => Promise<RejectedRecordInput[]>,
  ): Promise<ImportCheckpoint> {
    return await this.database.db.transaction().execute(async (transaction) => {
      const refused = count ? await writeLines(transaction) : [];
      const next = {
        line: batch.to,
        processed: this.checkpoint.processed + batch.lines,
        written: this.checkpoint.written + count - refused.length,
        rejected: this.checkpoint.rejected + batch.rejects.length + refused.length,
      };
      await saveCheckpoint(transaction, this.job.jobId, next);
      await rejected;
      if (this.context.signal.aborted) throw new Stopped();
      return next;
    });
  }

  /** The lines one by one, each in a savepoint; those the database refuses come back as rejects. */
  private async writeLineByLine(db: AnyDatabase, lines: Line[]): Promise<RejectedRecordInput[]> {
    const refused: RejectedRecordInput[] = [];
    for (const line of lines) {
      await sql`savepoint line`.execute(db);
      try {
        await this.insert(db, [line.values]);
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

  /**
   * A batch's rows: PostgreSQL's COPY where it can take them (inserts), its verbatim lines as the
   * file's bytes and the others as converted values; the query builder's INSERT otherwise.
   */
  private async writeRows(db: AnyDatabase, batch: Batch, lines: Line[]): Promise<void> {
    const { copyInto } = this.database;
    const { table, mode } = this.definition;
    if (!copyInto || mode !== 'insert')
      return await this.insert(
        db,
        lines.map((line) => line.values),
      );
    if (this.verbatim && batch.verbatim.length) {
      const { columnsInFileOrder, delimiter, quote } = this.verbatim;
      // One piece: the runs are many and short (a reject or the end of a piece of the file ends one), and each is a write to the socket.
      const data = Buffer.concat(batch.verbatim.map((run) => run.bytes.subarray(run.start, run.end)));
      await copyInto(table, columnsInFileOrder, [data], { delimiter, quote });
    }
    if (lines.length)
      await copyInto(
        table,
        this.columnNames,
        copyBuffers(
          lines.map((line) => line.values),
          this.form.bufferEncoding,
        ),
      );
  }

  private async insert(db: AnyDatabase, rows: RowValues[]): Promise<void> {
    if (!rows.length) return;
    const { table, mode, key } = this.definition;
    const columns = this.columnNames;
    const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
    const updated = columns.filter((column) => !key?.includes(column));
    const { toDriver } = this.database;
    const { decode } = this.form;
    for (let start = 0; start < rows.length; start += perStatement) {
      const values = rows.slice(start, start + perStatement).map((row) =>
        rowObject(
          columns,
          row.map((value) => toDriver(typeof value === 'string' ? decode(value) : value)),
        ),
      );
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

  /** Upsert: one row a key in a statement (PostgreSQL refuses to update a row twice in one); the later line wins, as it would line by line. */
  private lastOfEachKey(lines: Line[]): Line[] {
    const positions = this.definition.key!.map((column) => this.columnNames.indexOf(column));
    const byKey = new Map<string, Line>();
    for (const line of lines) {
      const id = JSON.stringify(positions.map((position) => line.values[position]));
      byKey.delete(id);
      byKey.set(id, line);
    }
    return [...byKey.values()];
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

/** A valid line of the batch: its values, and its fields for a reject should the database refuse it. */
interface Line {
  line: number;
  fields: string[];
  values: RowValues;
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
