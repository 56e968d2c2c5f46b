import type { ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  ask,
  describeCpu,
  peakRssBytes,
  printTable,
  request,
  sleep,
  startBuilt,
  startServices,
  stealPercent,
  stopApp,
  warnAboutSteal,
  withCpu,
  withProcessCpu,
  type CpuTicks,
} from './bench-support.js';

/**
 * The import part of `npm run bench`: a CSV file of BENCH_IMPORT_LINES lines (10 columns, one line
 * in 100 bad) imported into PostgreSQL by the import-export worker (its own process, beside the job
 * service's), the job created and started over NATS and timed until it is finished; against
 * PostgreSQL's own `COPY FROM` of the file's valid lines into an identical table. The two alternate
 * BENCH_IMPORT_ROUNDS times. Each side's table must then hold exactly the valid lines.
 */
const LINES = Number(process.env.BENCH_IMPORT_LINES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_IMPORT_ROUNDS ?? 2);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** One line in BAD_EVERY is bad, at a known place. */
const BAD_EVERY = 100;
const JOB_TIMEOUT_MS = 30 * 60_000;
/** The job definition's batchSize: the worker's default unless set. */
const BATCH_SIZE = process.env.BENCH_IMPORT_BATCH_SIZE ? Number(process.env.BENCH_IMPORT_BATCH_SIZE) : undefined;

const COLUMNS = [
  { name: 'id', type: 'integer', sql: 'integer', required: true },
  { name: 'name', type: 'text', sql: 'text', required: true },
  { name: 'amount', type: 'decimal', sql: 'numeric(14,2)', required: false },
  { name: 'active', type: 'boolean', sql: 'boolean', required: false },
  { name: 'born', type: 'date', sql: 'date', required: false },
  { name: 'created_at', type: 'timestamp', sql: 'timestamptz', required: false },
  { name: 'email', type: 'email', sql: 'text', required: true },
  { name: 'city', type: 'text', sql: 'text', required: false },
  { name: 'score', type: 'integer', sql: 'integer', required: false },
  { name: 'note', type: 'text', sql: 'text', required: false },
] as const;

const CITIES = ['Paris', 'Lyon', 'Nantes', 'Lille', 'Bordeaux, Gironde', 'Saint-Étienne'];

/** Line `n` (1-based, after the header) of the file: bad where `n % BAD_EVERY === 37`, each bad line failing one column's rule. */
function line(n: number): { text: string; bad: boolean } {
  const bad = n % BAD_EVERY === 37;
  const kind = Math.floor(n / BAD_EVERY) % 4;
  const day = String((n % 28) + 1).padStart(2, '0');
  const month = String((n % 12) + 1).padStart(2, '0');
  const fields = [
    String(n),
    `Customer ${n}`,
    `${n % 100_000}.${String(n % 100).padStart(2, '0')}`,
    n % 2 ? 'true' : 'false',
    bad && kind === 0 ? `19${n % 100}-${month}-31x` : `19${String(50 + (n % 50))}-${month}-${day}`,
    `2024-${month}-${day}T${String(n % 24).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00Z`,
    bad && kind === 1 ? `customer${n}.example.com` : `customer${n}@example.com`,
    CITIES[n % CITIES.length]!,
    bad && kind === 2 ? `${n}.5` : String(n % 1000),
    bad && kind === 3 ? '' : `said "hello", ${n}`,
  ];
  // The fourth kind of bad line lacks its required email instead of a note.
  if (bad && kind === 3) fields[6] = '';
  return { text: fields.map(csvField).join(','), bad };
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Writes the file and the same file without its bad lines (COPY's input), in chunks; returns the count of valid lines. */
function writeFiles(all: string, valid: string): number {
  const header = `${COLUMNS.map((column) => column.name).join(',')}\n`;
  const [allFd, validFd] = [openSync(all, 'w'), openSync(valid, 'w')];
  let validLines = 0;
  try {
    writeSync(allFd, header);
    writeSync(validFd, header);
    for (let from = 1; from <= LINES; from += 10_000) {
      let chunk = '';
      let validChunk = '';
      for (let n = from; n < Math.min(from + 10_000, LINES + 1); n++) {
        const { text, bad } = line(n);
        chunk += `${text}\n`;
        if (!bad) {
          validChunk += `${text}\n`;
          validLines += 1;
        }
      }
      writeSync(allFd, chunk);
      writeSync(validFd, validChunk);
    }
  } finally {
    closeSync(allFd);
    closeSync(validFd);
  }
  return validLines;
}

interface Side {
  seconds: number;
  cpu: CpuTicks;
  /** CPU seconds of each process meanwhile. */
  processes: Map<string, number>;
}

export async function benchImport(nc: NatsConnection, natsUrl: string, id: string): Promise<void> {
  const folder = mkdtempSync(path.join(tmpdir(), `${id}-import-`));
  const schema = `${id}_import`;
  const prefix = `${id}.import`;
  const stream = `${id}_IMPORT`.toUpperCase();
  const [allFile, validFile] = [path.join(folder, 'files', 'customers.csv'), path.join(folder, 'valid.csv')];
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  let services: { stop(): Promise<void> } | undefined;
  let worker: ChildProcess | undefined;
  try {
    mkdirSync(path.dirname(allFile));
    const writing = performance.now();
    const validLines = writeFiles(allFile, validFile);
    console.log(
      `\nimport: ${LINES} lines (${LINES - validLines} bad), ${(statSync(allFile).size / 1e6).toFixed(0)} MB, ` +
        `written in ${((performance.now() - writing) / 1000).toFixed(1)} s; ${ROUNDS} rounds of COPY FROM and of the worker's job ` +
        `(batches of ${BATCH_SIZE ?? "the worker's default size"})`,
    );
    const columns = COLUMNS.map((column) => `${column.name} ${column.sql}${column.required ? ' not null' : ''}`).join(', ');
    await db.query(`create schema ${schema}`);
    await db.query(`create table ${schema}.copied (${columns})`);
    await db.query(`create table ${schema}.imported (${columns})`);

    const env = { NATS_URL: natsUrl, JOBS_SUBJECT_PREFIX: prefix, JOBS_STREAM: stream, DATA_DIR: path.join(folder, 'data') };
    services = await startServices(env);
    worker = (
      await startBuilt(
        'apps/import-export-worker/src/main.js',
        // A files bucket and a schema of its own: the worker makes its bucket at start, and its
        // checkpoint table in the connection's schema, the default ones otherwise.
        {
          ...env,
          DATABASE_URL: `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          JOBS_FILES_DIR: path.dirname(allFile),
          JOBS_FILES_BUCKET: `${stream}_files`,
          JOBS_EXECUTOR_ID: `${id}-worker`,
        },
        /runs import and export jobs/,
        // As `npm run worker` and `npm start` run it.
        ['--max-semi-space-size=64'],
      )
    ).child;

    const count = async (table: string) => Number((await db.query(`select count(*) as n from ${schema}.${table}`)).rows[0].n);
    const copy = async (): Promise<Side> => {
      await db.query(`truncate ${schema}.copied`);
      const {
        result: { result: seconds, cpu },
        cpu: processes,
      } = await withProcessCpu(() =>
        withCpu(async () => {
          const started = performance.now();
          const names = COLUMNS.map((column) => column.name).join(', ');
          await pipeline(
            createReadStream(validFile),
            db.query(copyFrom(`copy ${schema}.copied (${names}) from stdin with (format csv, header true)`)),
          );
          return (performance.now() - started) / 1000;
        }),
      );
      const rows = await count('copied');
      if (rows !== validLines) throw new Error(`COPY FROM left ${rows} rows, not the ${validLines} valid lines`);
      return { seconds, cpu, processes };
    };
    const job = async (round: number): Promise<Side> => {
      await db.query(`truncate ${schema}.imported`);
      const definition = {
        source: { file: path.basename(allFile) },
        table: `${schema}.imported`,
        columns: COLUMNS.map(({ name, type, required }) => ({ name, type, required })),
        ...(BATCH_SIZE === undefined ? {} : { batchSize: BATCH_SIZE }),
      };
      const create = { label: `bench import ${round}`, kind: 'import', actor: 'bench', definition, rejectPolicy: { maxRejects: null } };
      const { jobId } = await request(nc, `${prefix}.cmd.create`, create);
      const {
        result: { result, cpu },
        cpu: processes,
      } = await withProcessCpu(() =>
        withCpu(async () => {
          const started = performance.now();
          await request(nc, `${prefix}.cmd.start`, { jobId, actor: 'bench' });
          const ended = await untilEnded(nc, prefix, jobId);
          return { ended, seconds: (performance.now() - started) / 1000 };
        }),
      );
      const { ended, seconds } = result;
      if (ended.status !== 'finished') throw new Error(`the import job ended ${ended.status}: ${JSON.stringify(ended.lastError)}`);
      const rows = await count('imported');
      if (rows !== validLines) throw new Error(`the import job left ${rows} rows, not the ${validLines} valid lines`);
      if (ended.rejected !== LINES - validLines)
        throw new Error(`the import job rejected ${ended.rejected} lines, not ${LINES - validLines}`);
      return { seconds, cpu, processes };
    };

    const copies: Side[] = [];
    const jobs: Side[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const c = await copy();
      const j = await job(round);
      copies.push(c);
      jobs.push(j);
      console.log(
        `round ${round}: COPY FROM ${c.seconds.toFixed(1)} s (steal ${stealPercent(c.cpu).toFixed(0)}%), ` +
          `import job ${j.seconds.toFixed(1)} s (steal ${stealPercent(j.cpu).toFixed(0)}%), ratio ${(c.seconds / j.seconds).toFixed(2)}; ` +
          `worker peak RSS so far ${(peakRssBytes(worker.pid) / 1e6).toFixed(0)} MB`,
      );
      console.log(`  CPU seconds: COPY FROM ${describeCpu(c.processes, 1)}; import job ${describeCpu(j.processes, 1)}`);
    }
    const total = (sides: Side[]) => ({
      seconds: sides.reduce((sum, side) => sum + side.seconds, 0),
      cpu: sides.reduce((sum, side) => ({ steal: sum.steal + side.cpu.steal, total: sum.total + side.cpu.total }), { steal: 0, total: 0 }),
    });
    const [c, j] = [total(copies), total(jobs)];
    const peak = peakRssBytes(worker.pid);
    printTable([
      {
        measure: 'COPY FROM (valid lines)',
        'lines/s': (LINES * ROUNDS) / c.seconds,
        'seconds a round': c.seconds / ROUNDS,
        'steal %': stealPercent(c.cpu),
      },
      {
        measure: 'import job (worker)',
        'lines/s': (LINES * ROUNDS) / j.seconds,
        'seconds a round': j.seconds / ROUNDS,
        'steal %': stealPercent(j.cpu),
      },
    ]);
    warnAboutSteal(
      'the imports',
      [...copies, ...jobs].map((side) => side.cpu),
    );
    console.log(`import ratio, COPY FROM time / import job time: ${(c.seconds / j.seconds).toFixed(2)} (goal >= 0.5), ${LINES} lines`);
    console.log(`worker peak RSS (VmHWM): ${(peak / 1e6).toFixed(0)} MB (goal < 300 MB)`);
  } finally {
    if (worker) await stopApp(worker);
    if (services) await services.stop();
    const streams = (await jetstreamManager(nc)).streams;
    for (const name of [stream, `OBJ_${stream}_files`]) await streams.delete(name).catch(() => undefined);
    await db.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await db.end();
    rmSync(folder, { recursive: true, force: true });
  }
}

const ENDED = new Set(['finished', 'finished_with_error', 'cancelled']);

/** Polls the job's summary until it has ended. */
async function untilEnded(nc: NatsConnection, prefix: string, jobId: string): Promise<any> {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const reply = await ask(nc, `${prefix}.query.get`, { jobId });
    if (reply.ok && ENDED.has(reply.job.status)) return reply.job;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} has not ended after ${JOB_TIMEOUT_MS / 60_000} minutes: ${JSON.stringify(reply)}`);
    await sleep(100);
  }
}
