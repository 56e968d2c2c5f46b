import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { sql } from 'kysely';
import type { JobHandler } from '#executor';
import { checkTable, databaseError, openDatabase } from './database.js';
import { parseExportDefinition } from './definitions.js';
import { WorkerError } from './errors.js';
import { singleSelect } from './export-query.js';
import type { WorkerSettings } from './import-handler.js';

/** Rows a cursor reads at a time. */
const CHUNK_ROWS = 1_000;

/**
 * Exports a table, or one read-only query, to a CSV file or object, streamed: rows come from a
 * cursor as fast as the file takes them. A stopped export leaves no file (its temporary one is
 * removed) and starts over on Start.
 */
export function exportHandler(settings: WorkerSettings): JobHandler {
  return async (job, context) => {
    const definition = parseExportDefinition(job.definition);
    const query = definition.query === undefined ? null : singleSelect(definition.query);
    const database = openDatabase(settings.database, { readOnly: true });
    let rows = 0;
    try {
      const columns = definition.table ? await tableColumns(database, definition.table) : undefined;
      const what = definition.table ? `table ${definition.table}` : 'the query';
      await context.log('info', `Exporting ${what}`);
      const where = await settings.files.write(definition.target, job.jobId, (output) =>
        database.db
          .transaction()
          .setAccessMode('read only')
          .execute(async (transaction) => {
            const select = definition.table
              ? transaction.selectFrom(definition.table).selectAll()
              : transaction.selectFrom(sql`(${sql.raw(query!)})`.as('exported')).selectAll();
            async function* records() {
              for await (const row of select.stream(CHUNK_ROWS)) {
                rows++;
                if (rows % CHUNK_ROWS === 0) context.progress(rows);
                yield row;
              }
            }
            const csv = stringify({
              header: definition.csv.header,
              columns,
              delimiter: definition.csv.delimiter,
              quote: definition.csv.quote,
              cast: {
                boolean: (value) => (value ? 'true' : 'false'),
                date: (value) => value.toISOString(),
                bigint: (value) => value.toString(),
                object: (value) => (Buffer.isBuffer(value) ? value.toString('base64') : JSON.stringify(value)),
              },
            });
            await pipeline(Readable.from(records()), csv, output, { signal: context.signal });
          }),
      );
      context.progress(rows, rows);
      await context.log('info', `Exported ${rows} rows of ${what} to ${where}`);
      return { processed: rows, total: rows };
    } catch (error) {
      if (context.signal.aborted) return undefined;
      if (error instanceof WorkerError) throw error;
      return databaseError(`could not export ${definition.table ? `table ${definition.table}` : 'the query'} (${rows} rows written)`)(
        error,
      );
    } finally {
      await database.close();
    }
  };
}

async function tableColumns(database: ReturnType<typeof openDatabase>, table: string): Promise<string[]> {
  return [...(await checkTable(database, table, [])).keys()];
}
