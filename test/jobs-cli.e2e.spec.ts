import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobsClient } from '#client';
import { startImportExportWorker } from '#import-export-worker';
import { JOB_STATUS_LABELS, type JobEvent, type JobStatus } from '#contracts';
import { startTestService, type TestService } from '#testing/service';
import { until } from '#testing/polling';

/**
 * The built `jobs` CLI (bin/jobs.mjs, as `npx` runs it), as a person or a script runs it, against
 * the service on the real NATS server: its output and its exit codes.
 */
const BIN = path.resolve('bin/jobs.mjs');
const scratch = mkdtempSync(path.join(tmpdir(), 'jobs-cli-'));
let service: TestService;
let client: JobsClient;
let filesBucket: string;

beforeAll(async () => {
  if (!existsSync(path.resolve('dist/apps/jobs-cli/src/main.js'))) throw new Error('build first: npx tsc -b tsconfig.build.json');
  service = await startTestService('jobs_cli', { sides: ['commands', 'queries'] });
  client = new JobsClient(service.nc, { subjectPrefix: service.config.subjectPrefix, stream: service.config.stream });
  filesBucket = `${service.config.stream}_files`;
});

afterAll(async () => {
  if (service) {
    const jsm = await jetstreamManager(service.nc);
    await jsm.streams.delete(`OBJ_${filesBucket}`).catch(() => undefined);
    await service.close();
  }
  rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NATS_URL: service.config.natsUrl,
    JOBS_SUBJECT_PREFIX: service.config.subjectPrefix,
    JOBS_STREAM: service.config.stream,
    JOBS_FILES_BUCKET: filesBucket,
    JOBS_ACTOR: 'alice',
  };
}

/** Starts `jobs args...`; `done` resolves when it exits (killed after 60 s). */
function start(args: string[], env: NodeJS.ProcessEnv = cliEnv()): { child: ChildProcess; output: () => Run; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: scratch });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ...run, code });
    }),
  );
  return { child, output: () => run, done };
}

const jobs = (...args: string[]) => start(args).done;

/** Until `check` passes (the read models catch up with a command in their own time), 10 s at most. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => void): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('driving a job', () => {
  it('create, start, pause and cancel answer the command’s reply with --json; show and list read the job', async () => {
    const created = await jobs(
      'create',
      '--label',
      'CLI contacts import',
      '--kind',
      'import',
      '--definition',
      '{"table":"people"}',
      '--json',
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const reply = JSON.parse(created.stdout);
    expect(reply).toMatchObject({ ok: true, version: 1, status: 'editing' });
    const { jobId } = reply;

    expect(JSON.parse((await jobs('start', jobId, '--json')).stdout)).toMatchObject({ ok: true, jobId, status: 'running' });
    // With no executor on the job, a pause (and a cancel) may take effect at once.
    expect((await jobs('pause', jobId)).stdout).toMatch(new RegExp(`^Pause requested for ${jobId}: (Pause in progress|Paused)\n$`));
    const cancelled = JSON.parse((await jobs('cancel', jobId, '--json')).stdout);
    expect(cancelled).toMatchObject({ ok: true, jobId, status: expect.stringMatching(/^(cancelling|cancelled)$/) });

    const shown = await eventually(
      () => jobs('show', jobId, '--json'),
      (run) => expect(JSON.parse(run.stdout).job.version).toBe(cancelled.version),
    );
    expect(JSON.parse(shown.stdout).job).toMatchObject({
      jobId,
      label: 'CLI contacts import',
      status: cancelled.status,
      createdBy: 'alice',
    });
    const label = JOB_STATUS_LABELS[cancelled.status as JobStatus];
    expect((await jobs('show', jobId)).stdout).toMatch(new RegExp(`^Status: +${label}$`, 'm'));

    const listed = JSON.parse(
      (await jobs('list', '--json', '--status', cancelled.status, 'paused', '--kind', 'import', '--text', 'cli contacts')).stdout,
    );
    expect(listed.items.map((job: { jobId: string }) => job.jobId)).toEqual([jobId]);
    const table = await jobs('list', '--created-by', 'alice', '--limit', '5');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('CLI contacts import');
    expect(table.stdout).toContain(label);

    const history = await jobs('history', jobId, '--at-version', '2');
    expect(history.stdout).toMatch(/^v1 .* alice +created \(import: CLI contacts import\)$/m);
    expect(history.stdout).toMatch(/^v2 .* alice +started$/m);
    expect(history.stdout).not.toContain('pause requested');
    expect(history.stdout).toContain('Definition: {"table":"people"}');
  });

  it('a refused command says why and exits 1; a wrong command line exits 2; an unreachable NATS is said in plain words', async () => {
    const { jobId } = await client.create({ label: 'Refused start', kind: 'export' });
    await client.cancel({ jobId });
    const refused = await jobs('start', jobId);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^jobs: INVALID_TRANSITION: /);
    expect(await jobs('show', 'no-such-job')).toMatchObject({ code: 1, stderr: expect.stringMatching(/^jobs: JOB_NOT_FOUND: /) });

    const usage = await jobs('list', '--status', 'done');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("argument 'done' is invalid");
    expect((await jobs('create', '--kind', 'import')).code).toBe(2);

    const unreachable = await start(['list'], { ...cliEnv(), NATS_URL: 'nats://127.0.0.1:1' }).done;
    expect(unreachable).toMatchObject({ code: 1, stderr: 'jobs: cannot reach NATS at nats://127.0.0.1:1: is the service running?\n' });
    const noService = await start(['list'], { ...cliEnv(), JOBS_SUBJECT_PREFIX: 'nobody_answers_here' }).done;
    expect(noService.code).toBe(1);
    expect(noService.stderr).toContain('no jobs service answers on NATS');
  });
});

describe('a job’s log and rejects, sent by a simulated executor', () => {
  it('logs lists the entries (by level), rejects --csv every page as CSV', async () => {
    const { jobId } = await client.create({ label: 'Rejecting import', kind: 'import', rejectPolicy: { maxRejects: null } });
    await client.start({ jobId });
    await client.log({ jobId, level: 'warning', message: 'column "Phone" ignored' });
    const records = Array.from({ length: 1_200 }, (_, i) => ({
      line: i + 2,
      reason: i === 0 ? 'bad email, "x"' : 'bad email',
      record: { email: `x${i}` },
    }));
    await client.reject({ jobId, records: records.slice(0, 1_000) });
    const last = await client.reject({ jobId, records: records.slice(1_000) });
    await client.get({ jobId, minPosition: last.position });

    const logs = await jobs('logs', jobId);
    expect(logs.stdout).toMatch(/^\S+ \S+ {2}info {5}Import job created by anonymous/m);
    expect(logs.stdout).toMatch(/ {2}warning {2}column "Phone" ignored$/m);
    const warnings = (await jobs('logs', jobId, '--level', 'warning')).stdout.trim().split('\n');
    expect(warnings.filter((line) => / {2}warning {2}/.test(line))).toEqual(warnings);
    expect(warnings.filter((line) => line.endsWith('column "Phone" ignored'))).toHaveLength(1);

    const csv = await jobs('rejects', jobId, '--csv');
    expect(csv.code).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe('line,reason,record,at');
    expect(lines[1]).toMatch(/^2,"bad email, ""x""","{""email"":""x0""}",\d{4}-/);
    expect(lines.at(-2)).toMatch(/^1201,bad email,"{""email"":""x1199""}",/);
    expect(lines).toHaveLength(1_202);
    expect((await jobs('rejects', jobId)).stdout).toMatch(/^1200 rejected records$/m);
  });

  it('logs --follow prints entries as they come and ends with the job', async () => {
    const { jobId } = await client.create({ label: 'Followed import', kind: 'import' });
    await client.start({ jobId });
    const follow = start(['logs', jobId, '--follow']);
    await until(
      () => follow.output().stdout.includes('Execution in progress'),
      () => 'the log so far',
      20_000,
    );
    await client.log({ jobId, level: 'info', message: 'halfway there' });
    await until(
      () => follow.output().stdout.includes('halfway there'),
      () => 'a new entry',
      20_000,
    );
    await client.finish({ jobId, processed: 10 });
    const run = await follow.done;
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/Finished/);
  });
});

/**
 * An import/export executor, simulated: on each job started after now, it reads the job's
 * definition and its file from the files bucket, reports progress, and finishes it, or fails it when
 * `fail` says so. Stands in for the worker until claims land.
 */
function simulatedExecutor(handle: (definition: Record<string, any>, jobId: string, executor: JobsClient) => Promise<void>) {
  const stop = new AbortController();
  const executor = new JobsClient(service.nc, {
    subjectPrefix: service.config.subjectPrefix,
    stream: service.config.stream,
    actor: 'executor-1',
  });
  const running = (async () => {
    const from = await service.lastSequence();
    for await (const event of executor.watchAll({ fromPosition: from, signal: stop.signal }) as AsyncIterable<JobEvent>) {
      if (event.type !== 'Started') continue;
      const { state } = await executor.history({ jobId: event.jobId });
      await handle(state!.definition, event.jobId, executor);
    }
  })();
  return {
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

async function readObject(name: string): Promise<string> {
  const store = await new Objm(service.nc).open(filesBucket);
  return new TextDecoder().decode((await store.getBlob(name))!);
}

describe('import and export, with a simulated executor', () => {
  it('import uploads the file, starts the job, shows a progress bar and ends with the job’s status: 0 finished, 1 finished with error', async () => {
    const file = path.join(scratch, 'people.csv');
    writeFileSync(file, 'E-mail,Name\na@example.com,Ann\nnot-an-email,Bob\nc@example.com,Cy\n');
    const seen: Record<string, any>[] = [];
    const executor = simulatedExecutor(async (definition, jobId, as) => {
      seen.push(definition);
      const lines = (await readObject(definition.source.object)).trim().split('\n').slice(1);
      await as.progress({ jobId, processed: 1, total: lines.length });
      await as.reject({ jobId, records: [{ line: 3, reason: 'E-mail: not an email', record: lines[1] }] });
      await as.progress({ jobId, processed: lines.length, total: lines.length });
      if (definition.table === 'broken')
        await as.fail({ jobId, error: { message: 'table "broken" does not exist', code: 'TABLE_NOT_FOUND' } });
      else await as.finish({ jobId, processed: lines.length, total: lines.length });
    });
    try {
      const finished = await jobs('import', file, '--table', 'people', '--map', 'E-mail:email:email:required', 'Name:name');
      expect(finished.stdout).toBe('Finished: 3/3 (100%) processed, 1 rejected\n');
      expect(finished.code).toBe(0);
      expect(finished.stderr).toMatch(/^Uploaded .*people\.csv \(\d+ B\) to T_JOBS_CLI\S+_files as imports\/\S+\/people\.csv$/m);
      expect(finished.stderr).toContain('[██████████████████████████████] 100% | 3/3 | 1 rejected | Finished');
      expect(seen[0]).toEqual({
        source: { object: expect.stringMatching(/^imports\/[0-9a-f-]{36}\/people\.csv$/) },
        table: 'people',
        csv: { delimiter: ',', quote: '"', header: true, encoding: 'utf-8' },
        columns: [
          { name: 'email', from: 'E-mail', type: 'email', required: true },
          { name: 'name', from: 'Name', type: 'text' },
        ],
        mode: 'insert',
      });

      const failed = await jobs('import', file, '--table', 'broken', '--json');
      expect(failed.code).toBe(1);
      const replies = failed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(replies[0]).toMatchObject({ ok: true, status: 'running' });
      expect(replies.some((reply) => reply.type === 'ProgressReported')).toBe(true);
      expect(replies.at(-1).job).toMatchObject({ status: 'finished_with_error', lastError: { message: 'table "broken" does not exist' } });
      // Without --map, every header column, as text.
      expect(seen[1].columns).toEqual([
        { name: 'E-mail', from: 'E-mail', type: 'text' },
        { name: 'Name', from: 'Name', type: 'text' },
      ]);
      const failedPlain = await jobs('import', file, '--table', 'broken', '--mode', 'upsert', '--key', 'E-mail', '--max-rejects', 'none');
      expect(failedPlain, failedPlain.stderr).toMatchObject({ code: 1, stdout: 'Finished with error: table "broken" does not exist\n' });
      expect(seen[2]).toMatchObject({ mode: 'upsert', key: ['E-mail'] });
    } finally {
      await executor.stop();
    }
  });

  it('export follows the job and downloads its file into --to', async () => {
    const executor = simulatedExecutor(async (definition, jobId, as) => {
      const store = await new Objm(service.nc).create(filesBucket);
      await store.putBlob({ name: definition.target.object }, new TextEncoder().encode(`email\n${definition.table}@example.com\n`));
      await as.finish({ jobId, processed: 1, total: 1 });
    });
    try {
      const to = path.join(scratch, 'out.csv');
      const run = await jobs('export', '--table', 'people', '--to', to);
      expect(run).toMatchObject({ code: 0, stdout: 'Finished: 1/1 (100%) processed, 0 rejected\n' });
      expect(readFileSync(to, 'utf8')).toBe('email\npeople@example.com\n');
    } finally {
      await executor.stop();
    }
  });
});

describe('watch', () => {
  it('prints a line per change when its output is no terminal, until Ctrl-C', async () => {
    const watch = start(['watch']);
    await until(
      () => watch.output().stderr.includes('Watching for changes'),
      () => 'the watch to begin',
      20_000,
    );
    const { jobId } = await client.create({ label: 'Watched export', kind: 'export' });
    await client.start({ jobId });
    await until(
      () => watch.output().stdout.includes(`${jobId}  started`),
      () => 'the Started line',
      20_000,
    );
    expect(watch.output().stdout).toContain(`${jobId}  created (export: Watched export)`);
    watch.child.kill('SIGINT');
    expect((await watch.done).code).toBe(0);
  });
});

describe('import through the import/export worker', () => {
  it('imports the good lines into the table, rejects the bad one, and exits 0 with the job’s status', async () => {
    const dataDir = mkdtempSync(path.join(scratch, 'worker-'));
    const table = new Database(path.join(dataDir, 'imports.sqlite'));
    table.exec('CREATE TABLE people (email TEXT PRIMARY KEY, name TEXT NOT NULL)');
    table.close();
    const worker = await startImportExportWorker({
      connection: service.nc,
      env: {
        NATS_URL: service.config.natsUrl,
        JOBS_SUBJECT_PREFIX: service.config.subjectPrefix,
        JOBS_STREAM: service.config.stream,
        JOBS_FILES_BUCKET: filesBucket,
        DATA_DIR: dataDir,
      },
    });
    try {
      const file = path.join(scratch, 'people-for-worker.csv');
      writeFileSync(file, 'E-mail,Name\na@example.com,Ann\nnot-an-email,Bob\nc@example.com,Cy\n');
      const run = await jobs('import', file, '--table', 'people', '--map', 'E-mail:email:email:required', 'Name:name:text:required');
      expect(run.stdout).toBe('Finished: 3/3 (100%) processed, 1 rejected\n');
      expect(run.code).toBe(0);
      const rows = new Database(path.join(dataDir, 'imports.sqlite'), { readonly: true });
      expect(rows.prepare('SELECT email, name FROM people ORDER BY email').all()).toEqual([
        { email: 'a@example.com', name: 'Ann' },
        { email: 'c@example.com', name: 'Cy' },
      ]);
      rows.close();
    } finally {
      await worker.stop();
    }
  });
});
