import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, type PostgresPool, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import type { ColumnValue } from './columns.js';
import { WorkerError } from './errors.js';

/** Where imports and exports go: PostgreSQL when a URL is given, else the embedded SQLite file. */
export interface DatabaseSettings {
  /** DATABASE_URL: `postgres://user@host:5432/db`; `?options=-c%20search_path%3Dname` picks a schema. */
  url?: string;
  /** The SQLite file when there is no URL: DATA_DIR/imports.sqlite. */
  sqliteFile: string;
}

export type Dialect = 'postgres' | 'sqlite';

export interface CopyCsv {
  delimiter: string;
  quote: string;
}

// Tables are the user's: their shape is known only at run time.
// biome-ignore lint/suspicious/noExplicitAny: rows of tables named in job definitions
export type AnyDatabase = Kysely<any>;

/** A job's own connection to the database: one code path, the dialect told apart only where values or names differ. */
export interface JobDatabase {
  db: AnyDatabase;
  dialect: Dialect;
  /**
   * The table's columns in their order, with their types (as information_schema's data_type names
   * them; SQLite's declared types), or null when there is no such table.
   */
  columnsOf(table: string): Promise<Map<string, string> | null>;
  /** A value as the driver takes it: SQLite has no boolean. */
  toDriver(value: ColumnValue): ColumnValue;
  /**
   * PostgreSQL: writes rows with `COPY FROM STDIN` on the job's connection, inside the transaction
   * open on it, many times faster than INSERTs: `data` in COPY's text format, or CSV lines of the
   * file when `csv` is given (its empty fields NULL, quoted or not). Null for SQLite, where INSERTs
   * cost about as much.
   */
  copyInto: ((table: string, columns: readonly string[], data: readonly Buffer[], csv?: CopyCsv) => Promise<void>) | null;
  close(): Promise<void>;
}

const SQLITE_BUSY_TIMEOUT_MS = 30_000;

/** Opens a connection for one job; its own, so that an export's long read does not hold an import's writes (SQLite). */
export function openDatabase(settings: DatabaseSettings, options: { readOnly?: boolean } = {}): JobDatabase {
  if (settings.url) {
    const { pool, client } = oneConnection(settings.url);
    const db: AnyDatabase = new Kysely({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
    return {
      db,
      dialect: 'postgres',
      columnsOf: async (table) => {
        const { schema, name } = splitTableName(table);
        const rows = await sql<{ column_name: string; data_type: string }>`
          select column_name, data_type from information_schema.columns
          where table_schema = coalesce(${schema ?? null}::text, current_schema()) and table_name = ${name}
          order by ordinal_position`.execute(db);
        return rows.rows.length ? new Map(rows.rows.map((row) => [row.column_name, row.data_type])) : null;
      },
      toDriver: (value) => value,
      copyInto: async (table, columns, data, csv) => {
        const names = sql.join(columns.map((column) => sql.id(column)));
        const options = csv
          ? sql` with (format csv, delimiter ${sql.lit(csv.delimiter)}, quote ${sql.lit(csv.quote)}, force_null (${names}))`
          : sql``;
        const copy = (await client()).query(copyFrom(sql`copy ${sql.table(table)} (${names}) from stdin${options}`.compile(db).sql));
        await new Promise<void>((resolve, reject) => {
          copy.on('error', reject);
          copy.on('finish', resolve);
          for (const buffer of data) copy.write(buffer);
          copy.end();
        });
      },
      close: () => db.destroy(),
    };
  }
  mkdirSync(path.dirname(settings.sqliteFile), { recursive: true });
  const database = new Database(settings.sqliteFile);
  // WAL and a busy timeout: several jobs may use the file at once, each on its own connection.
  database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // PostgreSQL's read-only transaction has no SQLite counterpart; this connection-wide switch is one.
  if (options.readOnly) database.pragma('query_only = ON');
  const db: AnyDatabase = new Kysely({ dialect: new SqliteDialect({ database }) });
  return {
    db,
    dialect: 'sqlite',
    columnsOf: async (table) => {
      const { schema, name } = splitTableName(table);
      const rows = await sql<{
        name: string;
        type: string;
      }>`select name, type from pragma_table_info(${name}, ${schema ?? 'main'})`.execute(db);
      return rows.rows.length ? new Map(rows.rows.map((row) => [row.name, row.type.toLowerCase()])) : null;
    },
    toDriver: (value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value),
    copyInto: null,
    close: () => db.destroy(),
  };
}

/**
 * One connection for a job's every statement, handed to Kysely as its pool, so that a COPY runs in
 * the transaction Kysely opened: a job's statements go one at a time anyway.
 */
function oneConnection(url: string): { pool: PostgresPool; client: () => Promise<pg.Client> } {
  const client = new pg.Client({ connectionString: url });
  let lost: Error | null = null;
  // A connection lost while idle is reported by the next statement; unheard, the event would end the process.
  client.on('error', (error) => {
    lost ??= error;
  });
  const connected = client.connect();
  connected.catch(() => undefined);
  const connection = async () => {
    await connected;
    if (lost) throw lost;
    return client;
  };
  return {
    client: connection,
    pool: {
      connect: async () => {
        const opened = await connection();
        return { query: opened.query.bind(opened), release: () => undefined };
      },
      end: async () => {
        await connected.catch(() => undefined);
        await client.end();
      },
    },
  };
}

/** `schema.table` or `table`. */
export function splitTableName(table: string): { schema?: string; name: string } {
  const dot = table.indexOf('.');
  return dot < 0 ? { name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

/** Checks the table and the columns a job names, before anything is read or written; gives the table's columns and their types. */
export async function checkTable(database: JobDatabase, table: string, columns: readonly string[]): Promise<Map<string, string>> {
  const existing = await database.columnsOf(table).catch(databaseError('could not read the table'));
  if (!existing) throw new WorkerError('TABLE_NOT_FOUND', `there is no table "${table}" in the database: create it, or name another`);
  const missing = columns.filter((column) => !existing.has(column));
  if (missing.length) {
    throw new WorkerError(
      'COLUMN_NOT_FOUND',
      `table "${table}" has no column ${missing.map((column) => `"${column}"`).join(', ')}: its columns are ${[...existing.keys()].join(', ')}`,
    );
  }
  return existing;
}

/** A database failure as the job's error, with what the database said. */
export function databaseError(doing: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof WorkerError) throw error;
    throw new WorkerError('DATABASE_ERROR', `${doing}: ${error instanceof Error ? error.message : String(error)}`);
  };
}
