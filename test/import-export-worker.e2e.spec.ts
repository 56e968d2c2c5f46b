import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_TABLE, type ImportExportWorker, type JobDatabase, openDatabase, startImportExportWorker } from '#import-export-worker';
import { type TestService, startTestService } from '#testing/service';
import { TEST_NATS_URL } from '#testing/nats';
import { createTestSchema, type TestSchema } from '#testing/postgres';
import { untilJob } from '#testing/polling';

const FINAL = ['finished', 'finished_with_error', 'cancelled'];

describe('the import/export worker, through jobs on the service', () => {
  let service: TestService;
  let worker: ImportExportWorker;
  let database: JobDatabase;
  let folder: string;
  let schema: TestSchema;

  beforeAll(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'worker-e2e-'));
    mkdirSync(path.join(folder, 'files'));
    schema = await createTestSchema('worker_e2e');
    database = openDatabase({ url: schema.url, sqliteFile: '' });
    service = await startTestService('worker', { sides: ['commands', 'queries'] });
    worker = await startImportExportWorker({
      env: {
        NATS_URL: TEST_NATS_URL,
        JOBS_STREAM: service.config.stream,
        JOBS_SUBJECT_PREFIX: service.config.subjectPrefix,
        DATA_DIR: folder,
        JOBS_FILES_DIR: path.join(folder, 'files'),
        JOBS_FILES_BUCKET: `${service.config.stream}_files`,
        DATABASE_URL: schema.url,
      },
    });
  });

  afterAll(async () => {
    await worker?.stop('test over');
    await database?.close();
    await schema?.drop();
    if (service) {
      await (await jetstreamManager(service.nc)).streams.delete(`OBJ_${service.config.stream}_files`).catch(() => undefined);
      await service.close();
    }
    rmSync(folder, { recursive: true, force: true });
  });

  /** A table of its own for each test, and a file of `lines` data lines whose lines in `bad` (file line numbers) fail the email rule. */
  async function given(table: string, lines: number, bad: (line: number) => boolean) {
    await database.db.schema
      .createTable(table)
      .addColumn('email', 'varchar(200)', (column) => column.primaryKey())
      .addColumn('n', 'integer', (column) => column.notNull())
      .execute();
    const rows = ['email,n'];
    const good: string[] = [];
    const badLines: number[] = [];
    for (let line = 2; line <= lines + 1; line++) {
      if (bad(line)) {
        rows.push(`not-an-email-${line},${line}`);
        badLines.push(line);
      } else {
        rows.push(`p${line}@example.org,${line}`);
        good.push(`p${line}@example.org`);
      }
    }
    writeFileSync(path.join(folder, 'files', `${table}.csv`), `${rows.join('\n')}\n`);
    return { good, badLines };
  }

  const definition = (table: string, batchSize = 1_000) => ({
    source: { file: `${table}.csv` },
    table,
    columns: [
      { name: 'email', type: 'email', required: true },
      { name: 'n', type: 'integer', required: true },
    ],
    batchSize,
  });

  async function create(body: Record<string, unknown>): Promise<string> {
    const reply = await service.command('create', { label: 'worker test', kind: 'import', ...body });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    return reply.jobId;
  }

  async function command(name: string, jobId: string): Promise<void> {
    const reply = await service.command(name, { jobId });
    expect(reply.ok, `${name}: ${JSON.stringify(reply)}`).toBe(true);
  }

  async function job(jobId: string): Promise<any> {
    const reply = await service.query('get', { jobId });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    return reply.job;
  }

  async function until(jobId: string, done: (job: any) => boolean, what: string): Promise<any> {
    return untilJob(jobId, () => job(jobId), done, what, 90_000);
  }

  async function rejects(jobId: string): Promise<{ line: number; reason: string; record: unknown }[]> {
    const items = [];
    let cursor: string | undefined;
    do {
      const reply = await service.query('rejects', { jobId, limit: 1_000, ...(cursor ? { cursor } : {}) });
      expect(reply.ok, JSON.stringify(reply)).toBe(true);
      items.push(...reply.items);
      cursor = reply.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }

  const emails = async (table: string) =>
    (await database.db.selectFrom(table).select('email').orderBy('email').execute()).map((row) => row.email as string);

  it('imports the good lines and records the bad ones as the Rejects tab shows them', async () => {
    const { good, badLines } = await given('people', 300, (line) => line % 37 === 0);
    const jobId = await create({ definition: definition('people', 50) });
    await command('start', jobId);
    const ended = await until(jobId, (current) => FINAL.includes(current.status), 'an end');

    expect(ended).toMatchObject({ status: 'finished', processed: 300, total: 300, rejected: badLines.length });
    expect(await emails('people')).toEqual([...good].sort());
    const recorded = await rejects(jobId);
    expect(recorded.map((reject) => reject.line)).toEqual(badLines);
    expect(recorded[0]).toMatchObject({
      line: 37,
      reason: 'email: "not-an-email-37" is not an email address',
      record: { email: 'not-an-email-37', n: '37' },
    });
  });

  it('ends the job "Finished with error" past the default limit of 100 rejects, saying why', async () => {
    // 150 bad lines among 10,000: every 66th line from line 66.
    const { badLines } = await given('limited', 10_000, (line) => line % 66 === 0 && line <= 66 * 150);
    expect(badLines).toHaveLength(150);
    const jobId = await create({ definition: definition('limited') });
    await command('start', jobId);
    const ended = await until(jobId, (current) => FINAL.includes(current.status), 'an end');

    expect(ended.status).toBe('finished_with_error');
    expect(ended.lastError).toEqual({
      code: 'REJECT_LIMIT_EXCEEDED',
      message: expect.stringMatching(/^\d+ records rejected, more than the job's limit of 100: the job was stopped$/),
    });
    expect(ended.rejected).toBeGreaterThan(100);
    expect(ended.rejected).toBeLessThan(150);
    expect((await rejects(jobId)).map((reject) => reject.line)).toEqual(badLines.slice(0, ended.rejected));
  });

  it('resumes after Pause: Start ends with exactly the good lines', async () => {
    const { good, badLines } = await given('paused', 20_000, (line) => line % 1_000 === 0);
    const jobId = await create({ definition: definition('paused', 50), rejectPolicy: { maxRejects: null } });
    await command('start', jobId);
    await until(jobId, (current) => current.processed > 0, 'some progress');
    await command('pause', jobId);
    const paused = await until(jobId, (current) => current.status === 'paused', 'Paused');
    const halfway = (await emails('paused')).length;
    expect(halfway).toBeGreaterThan(0);
    expect(halfway).toBeLessThan(good.length);

    await command('start', jobId);
    const ended = await until(jobId, (current) => FINAL.includes(current.status), 'an end');
    expect(ended).toMatchObject({ status: 'finished', processed: 20_000, rejected: badLines.length });
    expect(paused.processed).toBeLessThan(20_000);
    expect(await emails('paused')).toEqual([...good].sort());
    expect((await rejects(jobId)).map((reject) => reject.line)).toEqual(badLines);
  });

  it('keeps what was committed when cancelled: whole batches up to the checkpoint row, nothing after', async () => {
    const { good } = await given('cancelled', 40_000, () => false);
    const jobId = await create({ definition: definition('cancelled', 50) });
    await command('start', jobId);
    await until(jobId, (current) => current.processed > 0, 'some progress');
    await command('cancel', jobId);
    const ended = await until(jobId, (current) => FINAL.includes(current.status), 'an end');

    expect(ended.status).toBe('cancelled');
    const checkpoint = await database.db.selectFrom(CHECKPOINT_TABLE).selectAll().where('job_id', '=', jobId).executeTakeFirstOrThrow();
    const line = Number(checkpoint.line);
    expect(line).toBeLessThan(40_001);
    expect((line - 1) % 50).toBe(0);
    const kept = good.filter((email) => Number(/\d+/.exec(email)![0]) <= line);
    expect(await emails('cancelled')).toEqual(kept.sort());
    expect(Number(checkpoint.written)).toBe(kept.length);
  });

  it('exports a table to the Object Store and imports that object into another table, missing objects refused', async () => {
    const { good } = await given('exported', 2_500, () => false);
    const loaded = await create({ definition: definition('exported') });
    await command('start', loaded);
    await until(loaded, (current) => current.status === 'finished', 'Finished');
    const exportId = await create({ kind: 'export', definition: { table: 'exported', target: { object: 'exports/exported.csv' } } });
    await command('start', exportId);
    expect(await until(exportId, (current) => FINAL.includes(current.status), 'an end')).toMatchObject({
      status: 'finished',
      processed: 2_500,
    });
    const logs = await service.query('logs', { jobId: exportId, limit: 1_000 });
    expect(logs.items.map((entry: any) => entry.message)).toContain(
      `Exported 2500 rows of table exported to object exports/exported.csv of bucket ${service.config.stream}_files`,
    );

    await database.db.schema
      .createTable('reimported')
      .addColumn('email', 'varchar(200)', (column) => column.primaryKey())
      .addColumn('n', 'integer')
      .execute();
    const importId = await create({ definition: { ...definition('reimported'), source: { object: 'exports/exported.csv' } } });
    await command('start', importId);
    expect(await until(importId, (current) => FINAL.includes(current.status), 'an end')).toMatchObject({ status: 'finished', rejected: 0 });
    expect(await emails('reimported')).toEqual([...good].sort());

    const missing = await create({ definition: { ...definition('reimported'), source: { object: 'nobody.csv' } } });
    await command('start', missing);
    expect(await until(missing, (current) => FINAL.includes(current.status), 'an end')).toMatchObject({
      status: 'finished_with_error',
      lastError: {
        code: 'FILE_NOT_FOUND',
        message: `no object "nobody.csv" in the bucket ${service.config.stream}_files: upload it there first`,
      },
    });
  });

  it('fails a job whose file leaves the files folder, with its code, writing nothing', async () => {
    const jobId = await create({ definition: { ...definition('people'), source: { file: '../imports.sqlite' } } });
    await command('start', jobId);
    expect(await until(jobId, (current) => FINAL.includes(current.status), 'an end')).toMatchObject({
      status: 'finished_with_error',
      processed: 0,
      lastError: { code: 'PATH_OUTSIDE_FILES_DIR' },
    });
  });
});
