import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { RejectPolicy } from '#contracts';
import { type CliContext, printJson } from '../cli-context.js';
import { readHeader } from '../csv-header.js';
import {
  type CsvFormat,
  columnsFromHeader,
  exportDefinition,
  type ImportColumn,
  importDefinition,
  type ImportDefinition,
} from '../definitions.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { FilesBucket } from '../object-files.js';
import { followJob, reportOutcome } from './follow-job.js';

export interface ImportInput {
  file: string;
  table: string;
  /** From `--map`; none: the file's header line, every column as text. */
  columns: ImportColumn[] | undefined;
  csv: CsvFormat;
  mode: 'insert' | 'upsert';
  key?: string[];
  batchSize?: number;
  label?: string;
  rejectPolicy?: RejectPolicy;
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * `import FILE`: uploads the file to the files bucket under a name of its own, creates the import
 * job that reads it, starts it, and follows it to its end. Everything the command line can get
 * wrong is refused before anything is uploaded.
 */
export async function importFile(context: CliContext, input: ImportInput): Promise<number> {
  const file = await stat(input.file).catch(() => null);
  if (file === null || !file.isFile()) throw new UsageError(`${input.file}: no such file`);
  const columns = input.columns ?? columnsFromHeader(await readHeader(input.file, input.csv));
  const jobId = randomUUID();
  const objectName = `imports/${jobId}/${path.basename(input.file)}`;
  const definition: ImportDefinition = importDefinition({ ...input, columns, source: { object: objectName } });
  const bucket = new FilesBucket(context.client.nc, context.settings.filesBucket);
  await bucket.upload(input.file, objectName, `import job ${jobId}: ${input.file}`);
  context.err(`Uploaded ${input.file} (${sizeText(file.size)}) to ${bucket.name} as ${objectName}`);
  const label = input.label ?? `Import ${path.basename(input.file)} into ${input.table}`;
  try {
    await context.client.create({ jobId, label, kind: 'import', definition: { ...definition }, rejectPolicy: input.rejectPolicy });
  } catch (error) {
    await bucket.remove(objectName).catch(() => undefined);
    throw error;
  }
  return startAndFollow(context, jobId, label);
}

export interface ExportInput {
  table?: string;
  query?: string;
  to: string;
  csv: CsvFormat;
  label?: string;
}

/** `export`: creates the export job that writes to the files bucket, starts it, follows it, and downloads its file into `to`. */
export async function exportToFile(context: CliContext, input: ExportInput): Promise<number> {
  const jobId = randomUUID();
  const objectName = `exports/${jobId}/${path.basename(input.to)}`;
  const definition = exportDefinition({ table: input.table, query: input.query, csv: input.csv, target: { object: objectName } });
  const folder = await stat(path.dirname(path.resolve(input.to))).catch(() => null);
  if (folder === null || !folder.isDirectory()) throw new UsageError(`--to ${input.to}: no folder ${path.dirname(input.to)} to write into`);
  const label = input.label ?? `Export ${input.table ?? 'query'} to ${path.basename(input.to)}`;
  await context.client.create({ jobId, label, kind: 'export', definition: { ...definition } });
  const exitCode = await startAndFollow(context, jobId, label);
  if (exitCode !== EXIT.ok) return exitCode;
  const size = await new FilesBucket(context.client.nc, context.settings.filesBucket).download(objectName, input.to);
  context.err(`Saved ${input.to} (${sizeText(size)})`);
  return exitCode;
}

async function startAndFollow(context: CliContext, jobId: string, label: string): Promise<number> {
  const started = await context.client.start({ jobId });
  if (context.json) printJson(context, started);
  else context.err(`Started job ${jobId}: ${label}`);
  return reportOutcome(context, await followJob(context, jobId, started.position));
}
