import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { querySchemas, type JobEventCommit } from '#contracts';
import { JobQueries, jobSummary } from './job-queries.js';
import { LOG_IDS_PER_COMMIT } from './commit-applier.js';
import { ReadModelDatabase } from './read-model-database.js';
import { encodeCommit, JobStreams, T0 } from '#testing/job-streams';

const at = (n: number) => new Date(T0 + n * 1000).toISOString();

let dir: string;
const open: ReadModelDatabase[] = [];

function openDatabase(name = 'read-models.sqlite'): ReadModelDatabase {
  const database = ReadModelDatabase.open(join(dir, name));
  open.push(database);
  return database;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'read-models-'));
});

afterEach(() => {
  for (const database of open.splice(0)) database.close();
  rmSync(dir, { recursive: true, force: true });
});

function logsOf(queries: JobQueries, jobId: string) {
  return queries.jobLogs(querySchemas.logs.parse({ jobId, limit: 1000 })).items;
}

function rejectsOf(queries: JobQueries, jobId: string) {
  const page = queries.jobRejects(querySchemas.rejects.parse({ jobId, limit: 1000 }));
  if ('code' in page) throw new Error(page.message);
  return page;
}

/** Every row of the read models, to compare two files. */
function dump(database: ReadModelDatabase) {
  const all = (sql: string) => database.connection.prepare(sql).all();
  return {
    checkpoint: database.checkpoint(),
    jobs: all(
      'SELECT j.job_id, j.status, j.kind, j.created_by, j.created_at, j.updated_at, j.label_folded, s.state FROM jobs j JOIN job_states s USING (id) ORDER BY j.job_id',
    ),
    labels: all('SELECT j.job_id, l.rowid FROM job_labels l JOIN jobs j ON j.id = l.rowid ORDER BY j.job_id'),
    counts: all('SELECT status, kind, jobs FROM job_counts WHERE jobs <> 0 ORDER BY status, kind'),
    logs: all('SELECT * FROM job_logs ORDER BY id'),
    rejects: all('SELECT * FROM job_rejects ORDER BY job_id, line, ordinal'),
    quarantined: all('SELECT * FROM quarantined_commits ORDER BY position'),
  };
}

describe('ReadModelDatabase: what each event does', () => {
  it('shows every event of a job on its summary and its log, each line naming who did what and the status it led to', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    const executor = { actor: 'executor-7' };
    const steps: [JobEventCommit, string][] = [];
    const step = (commit: JobEventCommit, why: string) => {
      steps.push([commit, why]);
      database.applyCommits([encodeCommit(commit)]);
      // One source of truth: the job list shows what the domain's evolve makes of the events.
      expect(queries.getJob('job-1'), why).toEqual(jobSummary(streams.state('job-1')));
    };
    step(streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import', rejectPolicy: { maxRejects: null } }), 'Created');
    step(streams.run('update', { jobId: 'job-1', label: 'Contacts (March)', definition: { file: 'c.csv' } }), 'DefinitionUpdated');
    step(streams.run('start', { jobId: 'job-1' }, { actor: 'bob' }), 'Started');
    step(streams.run('claim', { jobId: 'job-1', executor: 'executor-7' }, executor), 'Claimed');
    step(streams.run('progress', { jobId: 'job-1', processed: 5, total: 20 }, executor), 'ProgressReported');
    step(streams.run('log', { jobId: 'job-1', level: 'info', message: 'reading c.csv' }, executor), 'MessageLogged');
    step(
      streams.run(
        'reject',
        {
          jobId: 'job-1',
          records: [
            { line: 3, reason: 'bad email', record: { email: 'x' } },
            { line: 9, reason: 'no name', record: 'x;;' },
          ],
        },
        executor,
      ),
      'RecordsRejected',
    );
    step(streams.run('pause', { jobId: 'job-1' }), 'PauseRequested');
    step(streams.run('mark-paused', { jobId: 'job-1' }, executor), 'Paused');
    step(streams.run('start', { jobId: 'job-1' }), 'Started again');
    step(streams.run('shutdown', { jobId: 'job-1', reason: 'deployment' }, executor), 'ServerShutdown');
    step(streams.run('start', { jobId: 'job-1' }), 'Started after shutdown');
    step(streams.run('claim', { jobId: 'job-1', executor: 'executor-8', leaseMs: 2_500 }, executor), 'Claimed again');
    step(streams.run('cancel', { jobId: 'job-1' }), 'CancellationRequested');
    step(streams.run('finish', { jobId: 'job-1', processed: 20, total: 20 }, executor), 'Finished');

    expect(queries.getJob('job-1')).toMatchObject({
      label: 'Contacts (March)',
      kind: 'import',
      status: 'finished',
      statusLabel: 'Finished',
      createdAt: at(1),
      createdBy: 'alice',
      startedAt: at(3),
      endedAt: at(15),
      updatedAt: at(15),
      processed: 20,
      total: 20,
      rejected: 2,
      progress: 100,
      warning: true,
      lastError: null,
      executor: null,
      leaseMs: null,
      version: 15,
    });
    const positionOf = (why: string) => steps.find(([, w]) => w === why)![0].position;
    expect(logsOf(queries, 'job-1')).toEqual(
      [
        ['Created', 'info', 'Import job created by alice: Editing in progress'],
        ['DefinitionUpdated', 'info', 'Job updated by alice (label, definition): Editing in progress'],
        ['Started', 'info', 'Job started by bob: Execution in progress'],
        ['Claimed', 'info', 'Claimed by executor executor-7 (lease 15 s): Execution in progress'],
        // ProgressReported writes no line.
        ['MessageLogged', 'info', 'reading c.csv'],
        ['RecordsRejected', 'warning', '2 records rejected, reported by executor-7 (2 in total)'],
        ['PauseRequested', 'info', 'Pause requested by alice: Pause in progress'],
        ['Paused', 'info', 'Pause confirmed by executor-7: Paused'],
        ['Started again', 'info', 'Job restarted by alice after Paused: Execution in progress'],
        ['ServerShutdown', 'warning', 'Server shutdown reported by executor-7 (deployment): Server shutdown in progress'],
        ['Started after shutdown', 'info', 'Job restarted by alice after Server shutdown in progress: Execution in progress'],
        ['Claimed again', 'info', 'Claimed by executor executor-8 (lease 2.5 s), sent by executor-7: Execution in progress'],
        ['CancellationRequested', 'info', 'Cancellation requested by alice: Cancellation in progress'],
        ['Finished', 'info', 'Job finished, reported by executor-7 (20 of 20 records processed): Finished'],
      ].map(([why, level, message]) => {
        const [commit] = steps.find(([, w]) => w === why)!;
        const event = commit.events[0]!;
        return { id: positionOf(why!) * LOG_IDS_PER_COMMIT, at: event.at, level, message, eventType: event.type, eventId: event.eventId };
      }),
    );
    expect(rejectsOf(queries, 'job-1')).toEqual({
      items: [
        { line: 3, reason: 'bad email', record: { email: 'x' }, at: at(7) },
        { line: 9, reason: 'no name', record: 'x;;', at: at(7) },
      ],
      total: 2,
      nextCursor: null,
    });
  });

  it('logs a warning or error message with its level and sets the warning flag', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    streams.run('create', { jobId: 'job-1', label: 'Export', kind: 'export' });
    streams.run('log', { jobId: 'job-1', level: 'warning', message: 'slow source' }, { actor: 'executor' });
    streams.run('log', { jobId: 'job-1', level: 'error', message: 'retrying' }, { actor: 'executor' });
    database.applyCommits(streams.stored);
    expect(logsOf(queries, 'job-1').map(({ level, message }) => [level, message])).toEqual([
      ['info', 'Export job created by alice: Editing in progress'],
      ['warning', 'slow source'],
      ['error', 'retrying'],
    ]);
    expect(queries.getJob('job-1')).toMatchObject({ status: 'editing', warning: true });
  });

  it('says how a job was cancelled: at once, or confirmed by its executor', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    streams.run('create', { jobId: 'job-1', label: 'Editing', kind: 'import' });
    streams.run('cancel', { jobId: 'job-1' }, { actor: 'carol' });
    streams.run('create', { jobId: 'job-2', label: 'Running', kind: 'import' });
    streams.run('start', { jobId: 'job-2' });
    streams.run('claim', { jobId: 'job-2', executor: 'executor' }, { actor: 'executor' });
    streams.run('cancel', { jobId: 'job-2' });
    streams.run('mark-cancelled', { jobId: 'job-2' }, { actor: 'executor' });
    database.applyCommits(streams.stored);
    expect(logsOf(queries, 'job-1').at(-1)).toMatchObject({
      level: 'info',
      message: 'Job cancelled by carol: Cancel',
      eventType: 'Cancelled',
    });
    expect(logsOf(queries, 'job-2').at(-1)).toMatchObject({
      message: 'Cancellation confirmed by executor: Cancel',
      eventType: 'Cancelled',
    });
    expect(queries.getJob('job-2')).toMatchObject({ status: 'cancelled', statusLabel: 'Cancel', endedAt: at(7) });
  });

  it('shows the executor that holds a job, none while it waits for one, and keeps no checkpoint in the job list', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
    streams.run('start', { jobId: 'job-1' });
    database.applyCommits(streams.stored);
    expect(queries.getJob('job-1')).toMatchObject({ status: 'running', executor: null });
    streams.run('claim', { jobId: 'job-1', executor: 'worker-1' }, { actor: 'executor' });
    streams.run('progress', { jobId: 'job-1', processed: 5, checkpoint: { line: 5 }, executor: 'worker-1' }, { actor: 'executor' });
    database.applyCommits(streams.stored);
    expect(queries.getJob('job-1')).toMatchObject({ status: 'running', executor: 'worker-1', leaseMs: 15_000, processed: 5 });
    expect(queries.getJob('job-1')).not.toHaveProperty('checkpoint');
    const stored = database.connection.prepare('SELECT state FROM job_states').pluck().get() as string;
    expect(JSON.parse(stored)).toMatchObject({ executor: 'worker-1', checkpoint: null });
    streams.run('shutdown', { jobId: 'job-1', executor: 'worker-1' }, { actor: 'executor' });
    database.applyCommits(streams.stored);
    expect(queries.getJob('job-1')).toMatchObject({ status: 'server_shutdown', executor: null });
  });

  it('reads a job stored before executors claimed jobs as held by none, and applies its claims', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
    streams.run('start', { jobId: 'job-1' });
    database.applyCommits(streams.stored);
    const { executor: _, leaseMs: __, checkpoint: ___, ...older } = streams.state('job-1');
    database.connection.prepare('UPDATE job_states SET state = ?').run(JSON.stringify(older));
    expect(queries.getJob('job-1')).toMatchObject({ status: 'running', executor: null });
    streams.run('claim', { jobId: 'job-1', executor: 'worker-1' }, { actor: 'executor' });
    expect(database.applyCommits(streams.stored)).toMatchObject({ quarantined: [] });
    expect(queries.getJob('job-1')).toMatchObject({ executor: 'worker-1' });
  });

  it('logs a failure as an error with its code, and keeps it as the last error', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
    streams.run('start', { jobId: 'job-1' });
    const failed = streams.run('fail', { jobId: 'job-1', error: { message: 'disk full', code: 'ENOSPC' } }, { actor: 'executor' });
    database.applyCommits(streams.stored);
    expect(logsOf(queries, 'job-1').at(-1)).toEqual({
      id: failed.position * LOG_IDS_PER_COMMIT,
      at: at(3),
      level: 'error',
      message: 'Job failed, reported by executor (ENOSPC: disk full): Finished with error',
      eventType: 'Errored',
      eventId: 'job-1:3',
    });
    expect(queries.getJob('job-1')).toMatchObject({ status: 'finished_with_error', lastError: { message: 'disk full', code: 'ENOSPC' } });
  });

  it('logs why the rejects policy stopped a job, after the rejects that crossed it, in the same commit', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import', rejectPolicy: { maxRejects: 2 } });
    streams.run('start', { jobId: 'job-1' });
    const records = [1, 2, 3].map((line) => ({ line, reason: 'bad', record: { line } }));
    const crossing = streams.run('reject', { jobId: 'job-1', records }, { actor: 'executor' });
    expect(crossing.events.map((event) => event.type)).toEqual(['RecordsRejected', 'Errored']);
    database.applyCommits(streams.stored);
    const base = crossing.position * LOG_IDS_PER_COMMIT;
    expect(logsOf(queries, 'job-1').slice(-2)).toEqual([
      {
        id: base,
        at: at(3),
        level: 'warning',
        message: '3 records rejected, reported by executor (3 in total)',
        eventType: 'RecordsRejected',
        eventId: 'job-1:3',
      },
      {
        id: base + 1,
        at: at(3),
        level: 'error',
        message:
          "Job stopped by the rejects policy on records rejected by executor (3 records rejected, more than the job's limit of 2: the job was stopped): Finished with error",
        eventType: 'Errored',
        eventId: 'job-1:4',
      },
    ]);
    expect(queries.getJob('job-1')).toMatchObject({
      status: 'finished_with_error',
      rejected: 3,
      lastError: { code: 'REJECT_LIMIT_EXCEEDED' },
    });
    expect(rejectsOf(queries, 'job-1').total).toBe(3);
  });

  it('finds a job by its new label once it is renamed, and no longer by the old one', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    const queries = new JobQueries(database);
    streams.run('create', { jobId: 'job-1', label: 'Nightly contacts', kind: 'import' });
    database.applyCommits(streams.stored);
    database.applyCommits([encodeCommit(streams.run('update', { jobId: 'job-1', label: 'Weekly orders' }))]);
    const search = (text: string) => queries.listJobs(querySchemas.list.parse({ text }));
    expect(search('ORDERS')).toMatchObject({ total: 1, items: [{ jobId: 'job-1', label: 'Weekly orders' }] });
    expect(search('contacts')).toMatchObject({ total: 0, items: [] });
  });

  it('quarantines the events of a job whose Created event it never got', () => {
    const streams = new JobStreams();
    const database = openDatabase();
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
    const orphan = streams.run('log', { jobId: 'job-1', level: 'info', message: 'hello' });
    const reason = "event 1 of 1 has version 2, but the job's next version is 1";
    expect(database.applyCommits([encodeCommit(orphan)])).toEqual({
      checkpoint: orphan.position,
      events: 0,
      quarantined: [{ position: orphan.position, jobId: 'job-1', reason }],
    });
    expect(new JobQueries(database).getJob('job-1')).toBeNull();
    expect(dump(database)).toMatchObject({ jobs: [], logs: [], rejects: [] });
  });
});

describe('ReadModelDatabase: commits that fail their check', () => {
  /** One event as the service would store it, but stored by no command. */
  const forged = (jobId: string, version: number, type: string, data: unknown) =>
    JSON.stringify([
      {
        eventId: `${jobId}:${version}`,
        type,
        schemaVersion: 1,
        jobId,
        version,
        at: at(99),
        commandId: 'forged',
        correlationId: 'forged',
        causationId: 'forged',
        actor: 'mallory',
        data,
      },
    ]);

  /** Two running jobs, and messages the service never wrote put on their subjects in between. */
  function poisoned() {
    const streams = new JobStreams();
    for (const jobId of ['a', 'b']) {
      streams.run('create', { jobId, label: `Job ${jobId}`, kind: 'import' });
      streams.run('start', { jobId });
    }
    const created = { label: 'Hijacked', kind: 'export', definition: {}, rejectPolicy: { maxRejects: null } };
    const quarantined = [
      { commit: streams.forge('a', 'this is not json', null), reason: 'its body is not JSON' },
      {
        commit: streams.forge('a', forged('a', 3, 'Created', created), 3),
        reason: 'event 1 of 1 (Created) is on a job that exists already',
      },
      {
        commit: streams.forge('a', forged('a', 3, 'Finished', {}), 7),
        reason: 'its Job-Version header says 7, but its events end at version 3',
      },
      {
        commit: streams.forge('b', forged('a', 3, 'Finished', {}), 3),
        reason: "event 1 of 1 names job a, but the commit is on job b's subject",
      },
      {
        commit: streams.forge('b', forged('b', 50, 'Finished', {}), 50),
        reason: "event 1 of 1 has version 50, but the job's next version is 3",
      },
    ];
    streams.run('log', { jobId: 'a', level: 'info', message: 'after the garbage' });
    streams.run('progress', { jobId: 'b', processed: 1 });
    return { streams, quarantined: quarantined.map(({ commit, reason }) => ({ position: commit.position, jobId: commit.jobId, reason })) };
  }

  it('applies none of them, records each with its position, the job of its subject and why, and moves the checkpoint past them', () => {
    const { streams, quarantined } = poisoned();
    const database = openDatabase();
    const all = streams.stored;
    expect(database.applyCommits(all)).toEqual({ checkpoint: all.at(-1)!.position, events: 6, quarantined });
    expect(database.quarantine()).toEqual({ count: 5, last: quarantined.at(-1) });
    const queries = new JobQueries(database);
    expect(queries.getJob('a')).toEqual(jobSummary(streams.state('a')));
    expect(queries.getJob('b')).toEqual(jobSummary(streams.state('b')));
    expect(queries.getJob('a')).toMatchObject({ status: 'running', version: 3 });
    // The same rows as the valid commits alone make, the quarantine apart.
    const reference = openDatabase('reference.sqlite');
    reference.applyCommits(streams.commits.map(encodeCommit));
    expect({ ...dump(database), checkpoint: 0, quarantined: [] }).toEqual({ ...dump(reference), checkpoint: 0 });
  });

  it('quarantines the same commits whatever the batches, so a rebuild matches the live read models', () => {
    const { streams, quarantined } = poisoned();
    const all = streams.stored;
    const live = openDatabase('live.sqlite');
    for (const commit of all) live.applyCommits([commit]);
    const rebuilt = openDatabase('rebuilt.sqlite');
    for (let i = 0; i < all.length; i += 3) rebuilt.applyCommits(all.slice(i, i + 3));
    expect(dump(rebuilt)).toEqual(dump(live));
    expect(dump(live).quarantined).toEqual(quarantined.map(({ position, jobId, reason }) => ({ position, job_id: jobId, reason })));
  });

  it('has none to show in a file that holds none', () => {
    expect(openDatabase().quarantine()).toEqual({ count: 0, last: null });
  });
});

describe('ReadModelDatabase: every commit applied exactly once', () => {
  /** Three jobs and a bit of everything, a message the service never wrote included. */
  function history(): JobStreams {
    const streams = new JobStreams();
    for (const jobId of ['a', 'b', 'c']) {
      streams.run('create', { jobId, label: `Job ${jobId}`, kind: 'import' });
      streams.run('start', { jobId });
      streams.run('log', { jobId, level: 'warning', message: `careful with ${jobId}` }, { actor: 'executor' });
    }
    streams.run('reject', { jobId: 'a', records: [{ line: 2, reason: 'bad', record: { n: 1 } }] }, { actor: 'executor' });
    streams.run('progress', { jobId: 'b', processed: 3, total: 4 }, { actor: 'executor' });
    streams.run('finish', { jobId: 'b' }, { actor: 'executor' });
    streams.forge('c', 'this is not json', null);
    streams.run('reject', { jobId: 'a', records: [{ line: 1, reason: 'bad', record: 'x' }] }, { actor: 'executor' });
    streams.run('pause', { jobId: 'c' });
    return streams;
  }

  it('changes nothing when the same commits are applied again', () => {
    const commits = history().stored;
    const database = openDatabase();
    expect(database.applyCommits(commits).checkpoint).toBe(commits.length);
    const once = dump(database);
    expect(database.applyCommits(commits)).toEqual({ checkpoint: commits.length, events: 0, quarantined: [] });
    for (const commit of commits) database.applyCommits([commit]);
    expect(dump(database)).toEqual(once);
    expect(once.logs).toHaveLength(3 * 3 + 2 + 1 + 1);
    expect(once.rejects).toHaveLength(2);
    expect(once.quarantined).toHaveLength(1);
  });

  it('applies only the new part of a batch that overlaps what it has, and the same as one pass', () => {
    const commits = history().stored;
    const reference = openDatabase('reference.sqlite');
    reference.applyCommits(commits);
    const database = openDatabase();
    database.applyCommits(commits.slice(0, 5));
    expect(database.checkpoint()).toBe(5);
    database.applyCommits(commits.slice(2, 9));
    database.applyCommits(commits.slice(0, 3));
    database.applyCommits(commits.slice(7));
    expect(dump(database)).toEqual(dump(reference));
  });

  it('builds the same rows, log ids included, whatever the batches: a rebuild matches the live read models', () => {
    const commits = history().stored;
    const live = openDatabase('live.sqlite');
    for (const commit of commits) live.applyCommits([commit]);
    const rebuilt = openDatabase('rebuilt.sqlite');
    for (let i = 0; i < commits.length; i += 4) rebuilt.applyCommits(commits.slice(i, i + 4));
    expect(dump(rebuilt)).toEqual(dump(live));
  });

  it('keeps neither rows nor checkpoint of a batch that fails midway, and applies it whole afterwards', () => {
    const commits = history().stored;
    const database = openDatabase();
    database.applyCommits(commits.slice(0, 3));
    const before = dump(database);
    // A write that fails in the middle of the batch, as a full disk would make it.
    database.connection.exec("CREATE TEMP TRIGGER disk_full BEFORE INSERT ON job_rejects BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    expect(() => database.applyCommits(commits.slice(3))).toThrow('disk full');
    expect(dump(database)).toEqual(before);
    expect(database.checkpoint()).toBe(3);

    database.connection.exec('DROP TRIGGER disk_full');
    database.applyCommits(commits);
    const reference = openDatabase('reference.sqlite');
    reference.applyCommits(commits);
    expect(dump(database)).toEqual(dump(reference));
  });

  it('resumes after a restart from the checkpoint it stored', () => {
    const commits = history().stored;
    const file = 'restarted.sqlite';
    const first = ReadModelDatabase.open(join(dir, file));
    first.applyCommits(commits.slice(0, 6));
    first.close();
    const database = openDatabase(file);
    expect(database.checkpoint()).toBe(6);
    database.applyCommits(commits);
    const reference = openDatabase('reference.sqlite');
    reference.applyCommits(commits);
    expect(dump(database)).toEqual(dump(reference));
  });

  it('keeps the number of jobs by status and kind equal to the jobs it holds, whatever the batches', () => {
    const streams = history();
    streams.run('create', { jobId: 'd', label: 'Job d', kind: 'export' });
    streams.run('cancel', { jobId: 'd' });
    const commits = streams.stored;
    const byStatusAndKind = (database: ReadModelDatabase) =>
      database.connection.prepare('SELECT status, kind, count(*) AS jobs FROM jobs GROUP BY status, kind ORDER BY status, kind').all();
    for (const size of [1, 4, commits.length]) {
      const database = openDatabase(`batches-of-${size}.sqlite`);
      for (let i = 0; i < commits.length; i += size) {
        database.applyCommits(commits.slice(i, i + size));
        expect(dump(database).counts, `batches of ${size}, after ${i + size}`).toEqual(byStatusAndKind(database));
      }
      expect(dump(database).counts).toEqual([
        { status: 'cancelled', kind: 'export', jobs: 1 },
        { status: 'finished', kind: 'import', jobs: 1 },
        { status: 'paused', kind: 'import', jobs: 1 },
        { status: 'running', kind: 'import', jobs: 1 },
      ]);
    }
  });

  it('counts the jobs of a file written before it kept counts', () => {
    const commits = history().stored;
    const file = 'older.sqlite';
    const older = ReadModelDatabase.open(join(dir, file));
    older.applyCommits(commits);
    older.connection.exec('DROP TABLE job_counts');
    older.close();
    const database = openDatabase(file);
    const reference = openDatabase('reference.sqlite');
    reference.applyCommits(commits);
    expect(dump(database)).toEqual(dump(reference));
  });

  it('brings the indexes of an older file to their current definitions', () => {
    const commits = history().stored;
    const older = ReadModelDatabase.open(join(dir, 'older.sqlite'));
    older.applyCommits(commits);
    // As an earlier version left them: an index of every log level, a creator index without the
    // columns that make counts read it alone.
    older.connection.exec(`
      DROP INDEX job_logs_notable_by_job; CREATE INDEX job_logs_by_job_level ON job_logs (job_id, level);
      DROP INDEX jobs_by_creator_created; CREATE INDEX jobs_by_creator_created ON jobs (created_by, created_at, job_id);
    `);
    older.close();
    const indexes = (database: ReadModelDatabase) =>
      database.connection.prepare("SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name").all();
    const reference = openDatabase('reference.sqlite');
    reference.applyCommits(commits);
    const reopened = openDatabase('older.sqlite');
    expect(indexes(reopened)).toEqual(indexes(reference));
    expect(indexes(reopened)).toContainEqual({
      name: 'jobs_by_creator_created',
      tbl_name: 'jobs',
      sql: 'CREATE INDEX jobs_by_creator_created ON jobs (created_by, created_at, job_id, kind, status)',
    });
    expect(indexes(reopened)).toContainEqual({
      name: 'job_logs_notable_by_job',
      tbl_name: 'job_logs',
      sql: "CREATE INDEX job_logs_notable_by_job ON job_logs (job_id) WHERE level <> 'info'",
    });
    expect(dump(reopened)).toEqual(dump(reference));
  });

  it('bulk loads only into a new file', () => {
    const database = openDatabase();
    database.applyCommits(history().stored);
    expect(() => ReadModelDatabase.openForBulkLoad(join(dir, 'read-models.sqlite'))).toThrow(/already holds read models/);
  });

  it('starts empty, at position 0, in a folder it creates', () => {
    const database = ReadModelDatabase.open(join(dir, 'nested', 'folder', 'read-models.sqlite'));
    open.push(database);
    expect(database.checkpoint()).toBe(0);
    expect(database.applyCommits([])).toEqual({ checkpoint: 0, events: 0, quarantined: [] });
  });
});
