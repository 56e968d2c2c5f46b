import type { RejectPolicy } from '#contracts';
import { UsageError } from './exit-codes.js';

/** The column types the import worker checks a value against. */
export const COLUMN_TYPES = ['text', 'integer', 'decimal', 'boolean', 'date', 'timestamp', 'email'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** One column of an import: where its value comes from in the file (a header name or a 1-based column number), and its rules. */
export interface ImportColumn {
  name: string;
  from: string | number;
  type: ColumnType;
  required?: boolean;
}

export interface CsvFormat {
  delimiter: string;
  quote: string;
  header: boolean;
  encoding: string;
}

/** A file the worker reads or writes: an object of the files bucket, or a path under its JOBS_FILES_DIR. */
export type FileRef = { object: string } | { file: string };

export interface ImportDefinition {
  source: FileRef;
  table: string;
  csv: CsvFormat;
  columns: ImportColumn[];
  mode: 'insert' | 'upsert';
  key?: string[];
  batchSize?: number;
}

export type ExportDefinition = ({ table: string } | { query: string }) & { target: FileRef; csv: CsvFormat };

/**
 * One `--map` value, `from:name[:type][:required]`: `E-mail:email:email:required` reads the file's
 * "E-mail" column into `email`, an email, required; `3:age:integer` reads the third column. A single
 * word maps a column to the same name, as text.
 */
export function parseColumnSpec(spec: string): ImportColumn {
  const parts = spec.split(':');
  const [from, name = from, type = 'text', flag, ...rest] = parts;
  const problem = (why: string) =>
    new UsageError(`--map ${JSON.stringify(spec)}: ${why}; write from:name[:type][:required], e.g. E-mail:email:email:required`);
  if (!from || !name || rest.length > 0) throw problem('expected 1 to 4 parts separated by ":"');
  if (!(COLUMN_TYPES as readonly string[]).includes(type)) throw problem(`"${type}" is not a column type (${COLUMN_TYPES.join(', ')})`);
  if (flag !== undefined && flag !== 'required') throw problem(`"${flag}" is not "required"`);
  const column: ImportColumn = { name, from: /^[1-9]\d*$/.test(from) ? Number(from) : from, type: type as ColumnType };
  if (flag === 'required') column.required = true;
  return column;
}

/** The columns of `--map` values; a name mapped twice is refused. */
export function parseColumnMap(specs: string[]): ImportColumn[] {
  const columns = specs.map(parseColumnSpec);
  const seen = new Set<string>();
  for (const { name } of columns) {
    if (seen.has(name)) throw new UsageError(`--map: column "${name}" is mapped twice`);
    seen.add(name);
  }
  return columns;
}

/** Without `--map`: every column of the file's header line, as text under the same name. */
export function columnsFromHeader(header: string[]): ImportColumn[] {
  if (header.length === 0 || header.every((name) => name.trim() === ''))
    throw new UsageError('the file has no header line to map its columns from: pass --map');
  const empty = header.findIndex((name) => name.trim() === '');
  if (empty >= 0) throw new UsageError(`column ${empty + 1} of the header line has no name: map the columns with --map`);
  return header.map((name) => ({ name: name.trim(), from: name, type: 'text' }));
}

/** `--max-rejects`: a whole number, or `none` for no limit (the service's default is 100); as the job's reject policy. */
export function parseRejectPolicy(value: string): RejectPolicy {
  if (value === 'none') return { maxRejects: null };
  if (!/^\d+$/.test(value)) throw new UsageError(`--max-rejects ${JSON.stringify(value)}: a whole number from 0, or "none" for no limit`);
  return { maxRejects: Number(value) };
}

/** A whole number option (`--limit`, `--at-version`, ...). */
export function parseCount(option: string, min = 0): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${option} ${JSON.stringify(value)}: a whole number from ${min}`);
    return Number(value);
  };
}

/** A time option: a day (`2024-03-01`, midnight UTC) or any time `Date` reads (ISO-8601 with a zone is best); as ISO-8601 UTC. */
export function parseTime(option: string): (value: string) => string {
  return (value) => {
    const time = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
    if (Number.isNaN(time.getTime()))
      throw new UsageError(`${option} ${JSON.stringify(value)}: not a time; write 2024-03-01 or 2024-03-01T09:00:00Z`);
    return time.toISOString();
  };
}

/** `--definition`: JSON, or `@file` to read it from a file; an object either way. */
export function parseDefinition(value: string, readFile: (path: string) => string): Record<string, unknown> {
  const text = value.startsWith('@') ? readDefinitionFile(value.slice(1), readFile) : value;
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--definition is not JSON: ${(error as Error).message}`);
  }
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition))
    throw new UsageError('--definition must be a JSON object, e.g. {"table":"people"}');
  return definition as Record<string, unknown>;
}

function readDefinitionFile(path: string, readFile: (path: string) => string): string {
  try {
    return readFile(path);
  } catch (error) {
    throw new UsageError(`--definition @${path}: ${(error as Error).message}`);
  }
}

/** One character, as `--delimiter` and `--quote` take: `\t` for a tab. */
export function parseCharacter(option: string): (value: string) => string {
  return (value) => {
    const character = value === '\\t' || value === 'tab' ? '\t' : value;
    if ([...character].length !== 1) throw new UsageError(`${option} ${JSON.stringify(value)}: one character (\\t for a tab)`);
    return character;
  };
}

/** `--key col,...`: the upsert key's columns, each a mapped column. */
export function parseKey(value: string): string[] {
  const key = value
    .split(',')
    .map((column) => column.trim())
    .filter((column) => column !== '');
  if (key.length === 0) throw new UsageError('--key: name the key columns, comma-separated');
  return key;
}

export interface ImportOptions {
  table: string;
  source: FileRef;
  csv: CsvFormat;
  columns: ImportColumn[];
  mode: 'insert' | 'upsert';
  key?: string[];
  batchSize?: number;
}

/** The import worker's job definition; an upsert needs a key among the mapped columns. */
export function importDefinition(options: ImportOptions): ImportDefinition {
  const { table, source, csv, columns, mode, key, batchSize } = options;
  if (mode === 'upsert' && (key === undefined || key.length === 0))
    throw new UsageError('--mode upsert needs --key, the columns that identify a row');
  if (mode === 'insert' && key !== undefined) throw new UsageError('--key goes with --mode upsert');
  const missing = key?.filter((column) => !columns.some((mapped) => mapped.name === column)) ?? [];
  if (missing.length > 0)
    throw new UsageError(`--key ${missing.join(',')}: not a mapped column (${columns.map((c) => c.name).join(', ')})`);
  if (!csv.header && columns.some((column) => typeof column.from === 'string'))
    throw new UsageError('--no-header: map the columns by number, e.g. --map 1:email:email');
  const definition: ImportDefinition = { source, table, csv, columns, mode };
  if (key !== undefined) definition.key = key;
  if (batchSize !== undefined) definition.batchSize = batchSize;
  return definition;
}

/** The export worker's job definition: a table or a read-only query, to `target`. */
export function exportDefinition(options: { table?: string; query?: string; target: FileRef; csv: CsvFormat }): ExportDefinition {
  const { table, query, target, csv } = options;
  if ((table === undefined) === (query === undefined)) throw new UsageError('export takes --table T or --query SQL, one of them');
  return table !== undefined ? { table, target, csv } : { query: query!, target, csv };
}
