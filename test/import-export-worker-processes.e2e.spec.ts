import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JobDatabase, openDatabase } from '#import-export-worker';
import { TEST_NATS_URL } from '#testing/nats';
import { createTestSchema, type TestSchema } from '#testing/postgres';
import { startTestService, type TestService } from '#testing/service';
import { poll, untilJob } from '#testing/polling';

/**
 * The import/export worker as it is deployed: processes of `node dist/apps/import-export-worker/src/main.js`
 * (`npx tsc -b tsconfig.build.json` first) against the service in this process (its lease monitor
 * included) and PostgreSQL. Three workers share thirty jobs, each run once; a worker stopped by
 * SIGTERM, and one killed by SIGKILL, in the middle of an import: Start resumes the job on another
 * worker and the table ends with every valid line once.
 */
const WORKER_MAIN = path.resolve('dist/apps/import-export-worker/src/main.js');
const FINAL = ['finished', 'finished_with_error', 'cancelled'];

interface WorkerProcess {
  executorId: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** What it wrote to standard error so far. */
  output(): string;
}

let service: TestService;
let database: JobDatabase;
let folder: string;
const workers: WorkerProcess[] = [];
let schema: TestSchema;

beforeAll(async () => {
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: build it first with npx tsc -b tsconfig.build.json`);
  folder = mkdtempSync(path.join(tmpdir(), 'worker-processes-'));
  mkdirSync(path.join(folder, 'files'));
  schema = await createTestSchema('worker_processes');
  database = openDatabase({ url: schema.url, sqliteFile: '' });
  service = await startTestService('worker_processes', { sides: ['commands', 'queries'], env: { JOBS_LEASE_CHECK_MS: '200' } });
});

afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.process.kill('SIGKILL');
    await worker.exited;
  }
});

afterAll(async () => {
  for (const worker of workers.splice(0)) {
    worker.process.kill('SIGKILL');
    await worker.exited;
  }
  await database?.close();
  await schema?.drop();
  if (service) {
    await (await jetstreamManager(service.nc)).streams.delete(`OBJ_${service.config.stream}_files`).catch(() => undefined);
    await service.close();
  }
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** A worker process; resolves once it says it runs jobs. */
async function spawnWorker(executorId: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      ...process.env,
      NATS_URL: TEST_NATS_URL,
      JOBS_STREAM: service.config.stream,
      JOBS_SUBJECT_PREFIX: service.config.subjectPrefix,
      DATABASE_URL: schema.url,
      DATA_DIR: folder,
      JOBS_FILES_DIR: path.join(folder, 'files'),
      JOBS_FILES_BUCKET: `${service.config.stream}_files`,
      JOBS_EXECUTOR_ID: executorId,
      JOBS_LEASE_MS: '15000',
      JOBS_SHUTDOWN_GRACE_MS: '1000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const worker = { executorId, process: child, exited, output: () => output };
  workers.push(worker);
  await poll(
    () => {
      if (exitCode !== undefined) throw new Error(`worker ${executorId} exited with ${exitCode} before it was ready: ${output}`);
      return output.includes(`executor ${executorId} runs import and export jobs`) ? true : undefined;
    },
    () => `worker ${executorId} to be ready; it wrote: ${output}`,
    30_000,
  );
  return worker;
}

async function job(jobId: string): Promise<any> {
  const reply = await service.query('get', { jobId });
  expect(reply.ok, JSON.stringify(reply)).toBe(true);
  return reply.job;
}

async function until(jobId: string, done: (job: any) => boolean, what: string, timeoutMs = 60_000): Promise<any> {
  return untilJob(jobId, () => job(jobId), done, what, timeoutMs);
}

async function createAndStart(definition: unknown, rejectPolicy?: unknown): Promise<string> {
  const created = await service.command('create', {
    label: 'worker processes',
    kind: 'import',
    definition,
    ...(rejectPolicy ? { rejectPolicy } : {}),
  });
  expect(created.ok, JSON.stringify(created)).toBe(true);
  await start(created.jobId);
  return created.jobId;
}

async function start(jobId: string): Promise<void> {
  const reply = await service.command('start', { jobId });
  expect(reply.ok, `start: ${JSON.stringify(reply)}`).toBe(true);
}

async function rejectedLines(jobId: string): Promise<number[]> {
  const lines: number[] = [];
  let cursor: string | undefined;
  do {
    const reply = await service.query('rejects', { jobId, limit: 1_000, ...(cursor ? { cursor } : {}) });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    lines.push(...reply.items.map((item: { line: number }) => item.line));
    cursor = reply.nextCursor ?? undefined;
  } while (cursor);
  return lines;
}

async function logMessages(jobId: string): Promise<string[]> {
  const reply = await service.query('logs', { jobId, limit: 1_000 });
  expect(reply.ok, JSON.stringify(reply)).toBe(true);
  return reply.items.map((entry: { message: string }) => entry.message);
}

/** A file `<name>.csv` of `lines` data lines (email,n), those whose file line number `bad` names with an email that fails its rule. */
function writeFile(name: string, lines: number, bad: (line: number) => boolean, prefix = '') {
  const rows = [prefix ? 'source,email,n' : 'email,n'];
  const good: string[] = [];
  const badLines: number[] = [];
  const lead = prefix ? `${prefix},` : '';
  for (let line = 2; line <= lines + 1; line++) {
    if (bad(line)) {
      rows.push(`${lead}not-an-email-${line},${line}`);
      badLines.push(line);
    } else {
      rows.push(`${lead}${prefix}p${line}@example.org,${line}`);
      good.push(`${prefix}p${line}@example.org,${line}`);
    }
  }
  writeFileSync(path.join(folder, 'files', `${name}.csv`), `${rows.join('\n')}\n`);
  return { good, badLines };
}

/** A table without a unique key, so that a line written twice shows as two rows. */
async function createTable(table: string, withSource = false): Promise<void> {
  let create = database.db.schema.createTable(table);
  if (withSource) create = create.addColumn('source', 'text', (column) => column.notNull());
  await create
    .addColumn('email', 'text', (column) => column.notNull())
    .addColumn('n', 'integer', (column) => column.notNull())
    .execute();
}

const emailAndN = [
  { name: 'email', type: 'email', required: true },
  { name: 'n', type: 'integer', required: true },
];

/** COUNT(*) and COUNT(DISTINCT email) of a table. */
async function counts(table: string): Promise<{ rows: number; distinct: number }> {
  const { rows } = await sql<{
    rows: string;
    distinct: string;
  }>`select count(*) as rows, count(distinct email) as distinct from ${sql.table(table)}`.execute(database.db);
  return { rows: Number(rows[0]!.rows), distinct: Number(rows[0]!.distinct) };
}

async function storedEvents(jobId: string) {
  return (await service.storedJob(jobId)).events;
}

describe('import/export worker processes (e2e)', () => {
  it('three worker processes and 30 started imports: each job claimed once, all finished, each file in its table once', async () => {
    await Promise.all(['spread-1', 'spread-2', 'spread-3'].map((executorId) => spawnWorker(executorId)));
    await createTable('spread', true);
    const files = Array.from({ length: 30 }, (_, i) => {
      const source = `f${String(i).padStart(2, '0')}`;
      return { source, ...writeFile(`spread-${source}`, 200, (line) => (line + i) % 37 === 0, source) };
    });
    const jobIds = await Promise.all(
      files.map(({ source }) =>
        createAndStart({
          source: { file: `spread-${source}.csv` },
          table: 'spread',
          columns: [{ name: 'source', type: 'text', required: true }, ...emailAndN],
          batchSize: 50,
        }),
      ),
    );

    for (const jobId of jobIds) await until(jobId, (current) => FINAL.includes(current.status), 'an end', 90_000);
    const claimedBy = new Set<string>();
    for (const [i, jobId] of jobIds.entries()) {
      expect(await job(jobId)).toMatchObject({ status: 'finished', processed: 200, rejected: files[i]!.badLines.length });
      const events = await storedEvents(jobId);
      const claims = events.filter((event) => event.type === 'Claimed');
      expect(claims, `claims of job ${jobId}`).toHaveLength(1);
      claimedBy.add((claims[0]!.data as { executor: string }).executor);
      expect(events.filter((event) => event.type === 'Finished')).toHaveLength(1);
    }
    // Spread over the processes, not all on one.
    expect(claimedBy.size).toBeGreaterThan(1);

    const rows = await database.db.selectFrom('spread').select(['source', 'email', 'n']).execute();
    const bySource = new Map<string, string[]>();
    for (const row of rows) bySource.set(row.source as string, [...(bySource.get(row.source as string) ?? []), `${row.email},${row.n}`]);
    expect(rows).toHaveLength(files.reduce((sum, file) => sum + file.good.length, 0));
    for (const { source, good } of files) expect(bySource.get(source)?.toSorted(), `rows of ${source}`).toEqual(good.toSorted());
  }, 150_000);

  /** Starts a 100,000-line import on the running workers and waits until one of them holds it and has committed a batch. */
  async function importMidway(table: string) {
    await createTable(table);
    const file = writeFile(table, 100_000, (line) => line % 2_500 === 0);
    const jobId = await createAndStart({ source: { file: `${table}.csv` }, table, columns: emailAndN, batchSize: 1_000 });
    const running = await until(jobId, (current) => current.executor && current.processed > 0, 'a claim and some progress');
    return { jobId, executor: running.executor as string, ...file };
  }

  /** Start after the stop: another worker claims the job, resumes after the committed lines, and the table ends exact. */
  async function resumedElsewhere(jobId: string, table: string, stopped: string, file: { good: string[]; badLines: number[] }) {
    await start(jobId);
    const ended = await until(jobId, (current) => FINAL.includes(current.status), 'an end', 90_000);
    expect(ended, JSON.stringify(ended)).toMatchObject({ status: 'finished', processed: 100_000, rejected: file.badLines.length });

    const claims = (await storedEvents(jobId)).filter((event) => event.type === 'Claimed');
    expect(claims.map((claim) => (claim.data as { executor: string }).executor)).toEqual([
      stopped,
      expect.not.stringMatching(`^${stopped}$`),
    ]);
    const resumed = (await logMessages(jobId)).map((message) => /^Resuming the import of .* after line (\d+) /.exec(message)).find(Boolean);
    expect(resumed, 'a log line saying the second run resumed').toBeTruthy();
    expect(Number(resumed![1])).toBeGreaterThan(1);

    expect(await counts(table)).toEqual({ rows: file.good.length, distinct: file.good.length });
    expect(await rejectedLines(jobId)).toEqual(file.badLines);
  }

  it('SIGTERM of a worker mid-import: server_shutdown naming the executor, then Start resumes on another worker, table exact', async () => {
    await Promise.all(['term-1', 'term-2'].map((executorId) => spawnWorker(executorId)));
    const { jobId, executor, ...file } = await importMidway('terminated');
    const stopped = workers.find((worker) => worker.executorId === executor)!;
    stopped.process.kill('SIGTERM');
    expect(await stopped.exited, stopped.output()).toBe(0);

    const shutdown = await until(jobId, (current) => current.status === 'server_shutdown', 'server_shutdown');
    expect(shutdown).toMatchObject({ executor: null });
    expect(shutdown.processed).toBeLessThan(100_000);
    expect((await storedEvents(jobId)).at(-1)).toMatchObject({
      type: 'ServerShutdown',
      data: { reason: `executor ${executor} stopped (SIGTERM)` },
    });

    await resumedElsewhere(jobId, 'terminated', executor, file);
  }, 150_000);

  it('SIGKILL of a worker mid-import: its 1.5 s lease expires, server_shutdown saying so, then Start resumes on another worker, table exact', async () => {
    // Alone, so that the worker with the short lease is the one that claims the job; the other starts once it is killed.
    const killed = await spawnWorker('kill-1', { JOBS_LEASE_MS: '1500' });
    const { jobId, executor, ...file } = await importMidway('killed');
    expect(executor).toBe('kill-1');
    killed.process.kill('SIGKILL');
    await killed.exited;
    const survivor = spawnWorker('kill-2');
    // Awaited below; a failed start must not go unhandled while the lease runs out.
    survivor.catch(() => undefined);

    const shutdown = await until(jobId, (current) => current.status === 'server_shutdown', 'server_shutdown', 30_000);
    expect(shutdown.processed).toBeLessThan(100_000);
    expect((await storedEvents(jobId)).at(-1)).toMatchObject({
      type: 'ServerShutdown',
      data: { reason: expect.stringMatching(/^executor kill-1 stopped renewing its lease: last heard/) },
    });

    await survivor;
    await resumedElsewhere(jobId, 'killed', executor, file);
  }, 150_000);
});
