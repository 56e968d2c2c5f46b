import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  isQueryName,
  JOB_STATUSES,
  querySchemas,
  QUERY_NAMES,
  type JobKind,
  type JobListPage,
  type JobStatus,
  type JobSummary,
} from '#contracts';
import { JobQueries } from './job-queries.js';
import { JobStreams, T0 } from '#testing/job-streams';
import { ReadModelDatabase } from './read-model-database.js';

let dir: string;
let database: ReadModelDatabase;
let queries: JobQueries;
let streams: JobStreams;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'job-queries-'));
  database = ReadModelDatabase.open(join(dir, 'read-models.sqlite'));
  queries = new JobQueries(database);
  streams = new JobStreams();
});

afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

function applyAll(): void {
  database.applyCommits(streams.stored);
}

function list(body: object = {}): JobListPage {
  const page = queries.listJobs(querySchemas.list.parse(body));
  if ('code' in page) throw new Error(page.message);
  return page;
}

const ids = (page: { items: JobSummary[] }) => page.items.map((job) => job.jobId);

/** The SQL of the statements the queries prepare from now on, those that `wanted` picks. */
function preparedSql(wanted: (sql: string) => boolean): string[] {
  const picked: string[] = [];
  const prepare = database.connection.prepare.bind(database.connection);
  vi.spyOn(database.connection, 'prepare').mockImplementation(((sql: string) => {
    if (wanted(sql)) picked.push(sql);
    return prepare(sql);
  }) as typeof prepare);
  return picked;
}

/** How SQLite runs `sql` with `params`, its plan's steps joined. */
function queryPlan(sql: string, ...params: unknown[]): string {
  return database.connection
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((row) => (row as { detail: string }).detail)
    .join('; ');
}

/** Walks every page of a list and checks that each says the same total. */
function allPages(body: object): string[] {
  const seen: string[] = [];
  let page = list(body);
  const { total } = page;
  for (;;) {
    expect(page.total).toBe(total);
    seen.push(...ids(page));
    if (page.nextCursor === null) break;
    page = list({ ...body, cursor: page.nextCursor });
  }
  expect(seen).toHaveLength(total);
  return seen;
}

interface JobSpec {
  jobId: string;
  label: string;
  kind: JobKind;
  createdBy: string;
  status: JobStatus;
}

/** Creates each job and drives it to its status; later updates in reverse order so updatedAt differs from createdAt's order. */
function seed(specs: JobSpec[]): void {
  for (const spec of specs) streams.run('create', { jobId: spec.jobId, label: spec.label, kind: spec.kind }, { actor: spec.createdBy });
  for (const spec of [...specs].reverse()) {
    const jobId = spec.jobId;
    if (spec.status === 'editing') streams.run('update', { jobId, definition: { touched: true } });
    if (spec.status === 'cancelled') streams.run('cancel', { jobId });
    if (spec.status === 'running' || spec.status === 'finished' || spec.status === 'paused') streams.run('start', { jobId });
    if (spec.status === 'finished') streams.run('finish', { jobId });
    // No executor holds the running job: a pause pauses it at once.
    if (spec.status === 'paused') streams.run('pause', { jobId });
  }
  applyAll();
}

const STATUS_CYCLE: JobStatus[] = ['editing', 'running', 'finished', 'paused', 'cancelled'];

/** 20 jobs, job-00 created first; statuses, kinds and creators in cycles. */
function twentyJobs(): JobSpec[] {
  return Array.from({ length: 20 }, (_, i) => ({
    jobId: `job-${String(i).padStart(2, '0')}`,
    label: i % 4 === 0 ? `Nightly CONTACTS import ${i}` : `Orders export ${i}`,
    kind: i % 2 === 0 ? 'import' : 'export',
    createdBy: i % 3 === 0 ? 'alice' : 'bob',
    status: STATUS_CYCLE[i % STATUS_CYCLE.length]!,
  }));
}

describe('listJobs', () => {
  it('lists the newest jobs first with their summaries, and counts them', () => {
    seed(twentyJobs());
    const page = list();
    expect(page.total).toBe(20);
    expect(page.nextCursor).toBeNull();
    expect(ids(page)).toEqual(
      twentyJobs()
        .map((job) => job.jobId)
        .reverse(),
    );
    expect(page.items.at(-1)).toEqual(queries.getJob('job-00'));
    expect(page.items.at(-1)).toMatchObject({
      jobId: 'job-00',
      label: 'Nightly CONTACTS import 0',
      kind: 'import',
      status: 'editing',
      statusLabel: 'Editing in progress',
      createdBy: 'alice',
    });
  });

  it('filters by one status or several, kind, creator, and combinations', () => {
    const specs = twentyJobs();
    seed(specs);
    const expected = (keep: (spec: JobSpec) => boolean) =>
      specs
        .filter(keep)
        .map((spec) => spec.jobId)
        .reverse();
    expect(ids(list({ status: 'running' }))).toEqual(expected((s) => s.status === 'running'));
    expect(ids(list({ status: ['paused', 'cancelled'] }))).toEqual(expected((s) => s.status === 'paused' || s.status === 'cancelled'));
    expect(ids(list({ kind: 'export' }))).toEqual(expected((s) => s.kind === 'export'));
    expect(ids(list({ createdBy: 'alice' }))).toEqual(expected((s) => s.createdBy === 'alice'));
    const combined = list({ status: ['editing', 'finished'], kind: 'import', createdBy: 'bob' });
    expect(ids(combined)).toEqual(
      expected((s) => (s.status === 'editing' || s.status === 'finished') && s.kind === 'import' && s.createdBy === 'bob'),
    );
    expect(combined.total).toBe(combined.items.length);
    expect(list({ status: 'server_shutdown' })).toEqual({ items: [], total: 0, nextCursor: null });
  });

  it("counts a creator's jobs of a kind or status from an index alone, without reading their rows", () => {
    seed(twentyJobs());
    const counts = preparedSql((sql) => sql.startsWith('SELECT count(*)'));
    // One job a page: the total is counted, not read off a last page.
    expect(list({ createdBy: 'bob', kind: 'import', limit: 1 }).total).toBe(6);
    expect(list({ createdBy: 'bob', status: ['running', 'finished'], limit: 1 }).total).toBe(6);
    expect(queryPlan(counts[0]!, 'import', 'bob')).toMatch(/USING COVERING INDEX jobs_by_creator_created /);
    expect(queryPlan(counts[1]!, 'running', 'finished', 'bob')).toMatch(/USING COVERING INDEX jobs_by_creator_created /);
  });

  it.each([
    ['createdAt', 'jobs_by_status_created'],
    ['updatedAt', 'jobs_by_status_updated'],
  ])('lists several statuses by %s from one walk of %s per status, without sorting every match', (sort, index) => {
    seed(twentyJobs());
    const pages = preparedSql((sql) => sql.includes('FROM jobs') && sql.includes('status IN'));
    const statuses = ['running', 'editing', 'paused'];
    expect(ids(list({ status: statuses, sort, limit: 4 }))).toEqual(ids(list({ status: statuses, sort })).slice(0, 4));
    expect(pages.length).toBeGreaterThan(0);
    for (const sql of pages.splice(0)) {
      const plan = queryPlan(sql, 'running', 5);
      expect(plan).toMatch(new RegExp(`USING COVERING INDEX ${index} `));
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('filters by creation time: at or after createdAfter, before createdBefore, in any time zone', () => {
    seed(twentyJobs());
    // job-NN is created at T0 + (NN + 1) seconds.
    const time = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
    expect(ids(list({ createdAfter: time(5), createdBefore: time(8), order: 'asc' }))).toEqual(['job-04', 'job-05', 'job-06']);
    const inParis = new Date(T0 + 5000 + 3_600_000).toISOString().replace('Z', '+01:00');
    expect(list({ createdAfter: inParis }).total).toBe(16);
  });

  it('finds a text anywhere in the label, whatever its case', () => {
    seed(twentyJobs());
    expect(ids(list({ text: 'contacts' }))).toEqual(['job-16', 'job-12', 'job-08', 'job-04', 'job-00']);
    expect(ids(list({ text: 'ORDERS EXPORT 1', kind: 'export' }))).toEqual(['job-19', 'job-17', 'job-15', 'job-13', 'job-11', 'job-01']);
    // Under 3 characters there is no trigram to look up: every label is read.
    expect(list({ text: '17' }).items.map((job) => job.label)).toEqual(['Orders export 17']);
    expect(list({ text: 'no such label' }).total).toBe(0);
    expect(list({ text: 'ort 1"' }).total).toBe(0);
  });

  it('finds a text shared by many labels, and its total, as well as a rare one', () => {
    const specs = Array.from({ length: 1200 }, (_, i) => ({
      jobId: `bulk-${String(i).padStart(4, '0')}`,
      label: i % 100 === 7 ? `Rare Ünïcode feed ${i}` : `Common feed ${i}`,
      kind: 'import' as const,
      createdBy: 'alice',
      status: 'editing' as const,
    }));
    for (const spec of specs) streams.run('create', spec);
    applyAll();
    const common = list({ text: 'common FEED', limit: 10 });
    expect(common.total).toBe(1188);
    expect(ids(common)).toEqual(
      specs
        .filter((s) => s.label.startsWith('Common'))
        .slice(-10)
        .map((s) => s.jobId)
        .reverse(),
    );
    const rare = list({ text: 'üNÏCODE', limit: 5 });
    expect(rare.total).toBe(12);
    expect(ids(rare)).toEqual(['bulk-1107', 'bulk-1007', 'bulk-0907', 'bulk-0807', 'bulk-0707']);
    expect(allPages({ text: 'ünïcode', limit: 5 })).toHaveLength(12);
  });

  it('sorts by creation or update time, either way, with the job id breaking ties', () => {
    seed(twentyJobs());
    const created = twentyJobs().map((job) => job.jobId);
    expect(ids(list({ sort: 'createdAt', order: 'asc' }))).toEqual(created);
    const byUpdate = list({ sort: 'updatedAt', order: 'desc' }).items;
    expect(byUpdate.map((job) => job.updatedAt)).toEqual(
      byUpdate
        .map((job) => job.updatedAt)
        .sort()
        .reverse(),
    );
    expect(ids(list({ sort: 'updatedAt', order: 'asc' }))).toEqual(ids({ items: byUpdate }).reverse());

    for (const jobId of ['tie-b', 'tie-c', 'tie-a'])
      streams.run('create', { jobId, label: 'Tie', kind: 'import' }, { at: '2030-01-01T00:00:00.000Z' });
    applyAll();
    expect(ids(list({ limit: 3 }))).toEqual(['tie-c', 'tie-b', 'tie-a']);
    expect(ids(list({ order: 'asc' })).slice(-3)).toEqual(['tie-a', 'tie-b', 'tie-c']);
  });

  it('pages with cursors through every sort and filter, each page with the same total', () => {
    seed(twentyJobs());
    for (const sort of ['createdAt', 'updatedAt'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        expect(allPages({ sort, order, limit: 3 })).toEqual(ids(list({ sort, order })));
        expect(allPages({ sort, order, limit: 2, status: ['running', 'editing'] })).toEqual(
          ids(list({ sort, order, status: ['running', 'editing'] })),
        );
      }
    }
    const first = list({ limit: 20 });
    expect(first.nextCursor).toBeNull();
    expect(list({ limit: 19 }).nextCursor).not.toBeNull();
  });

  it('keeps its place when jobs are created between two pages', () => {
    seed(twentyJobs());
    const first = list({ limit: 5 });
    streams.run('create', { jobId: 'newer', label: 'Newer', kind: 'import' });
    applyAll();
    const second = list({ limit: 5, cursor: first.nextCursor! });
    expect(ids(second)).toEqual(['job-14', 'job-13', 'job-12', 'job-11', 'job-10']);
    expect(second.total).toBe(21);
  });

  it('answers a cursor it did not make, or made for another sort, with VALIDATION_FAILED', () => {
    seed(twentyJobs());
    const { nextCursor } = list({ limit: 5 });
    for (const body of [
      { cursor: 'not a cursor' },
      { cursor: Buffer.from('[1,2]').toString('base64url') },
      { cursor: nextCursor, order: 'asc' },
      { cursor: nextCursor, sort: 'updatedAt' },
    ]) {
      expect(queries.listJobs(querySchemas.list.parse(body))).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('invalid cursor'),
        issues: [{ path: 'cursor' }],
      });
    }
  });
});

describe('statusCounts', () => {
  it('counts the jobs of each status for every filter but status, as the lists of each status total them', () => {
    seed(twentyJobs());
    const filters = [
      {},
      { kind: 'export' },
      { createdBy: 'alice' },
      { kind: 'import', createdBy: 'bob' },
      { text: 'contacts' },
      { text: 'export 1', kind: 'export' },
      { text: 'nothing like it' },
    ];
    for (const filter of filters) {
      const { counts } = queries.statusCounts(querySchemas['status-counts'].parse(filter));
      const totals = Object.fromEntries(JOB_STATUSES.map((status) => [status, list({ ...filter, status, limit: 1 }).total]));
      expect(counts).toEqual(totals);
    }
    expect(Object.values(queries.statusCounts({}).counts).reduce((sum, jobs) => sum + jobs, 0)).toBe(20);
  });
});

describe('getJob', () => {
  it('returns the job, or null for a job it does not know', () => {
    seed(twentyJobs());
    expect(queries.getJob('job-03')).toMatchObject({ jobId: 'job-03', status: 'paused', statusLabel: 'Paused', version: 3 });
    expect(queries.getJob('nope')).toBeNull();
  });
});

describe('jobLogs', () => {
  function jobWithLog(lines: number): void {
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import' });
    for (let i = 0; i < lines; i++) {
      streams.run('log', { jobId: 'job-1', level: i % 10 === 9 ? 'error' : i % 5 === 4 ? 'warning' : 'info', message: `line ${i}` });
    }
    streams.run('create', { jobId: 'other', label: 'Other', kind: 'export' });
    streams.run('log', { jobId: 'other', level: 'error', message: 'not job-1' });
    applyAll();
  }
  const logs = (body: object) => queries.jobLogs(querySchemas.logs.parse({ jobId: 'job-1', ...body }));

  it('reads the log 100 entries at a time, each page after the last entry read', () => {
    jobWithLog(249);
    const first = logs({});
    expect(first.items).toHaveLength(100);
    expect(first.items[0]!.message).toBe('Import job created by alice: Editing in progress');
    expect(first.nextCursor).toBe(first.items.at(-1)!.id);
    expect(first.olderCursor).toBeNull();
    const second = logs({ after: first.nextCursor });
    const third = logs({ after: second.nextCursor });
    expect(third.items).toHaveLength(50);
    expect(third.nextCursor).toBeNull();
    expect(third.olderCursor).toBe(third.items[0]!.id);
    const all = [...first.items, ...second.items, ...third.items];
    expect(all.map((entry) => entry.message)).toEqual([
      'Import job created by alice: Editing in progress',
      ...Array.from({ length: 249 }, (_, i) => `line ${i}`),
    ]);
    const entryIds = all.map((entry) => entry.id);
    expect(entryIds).toEqual([...entryIds].sort((a, b) => a - b));
    expect(new Set(entryIds).size).toBe(250);
  });

  it('reads only what was written since the last entry read', () => {
    jobWithLog(3);
    const seen = logs({});
    expect(seen.items).toHaveLength(4);
    expect(logs({ after: seen.items.at(-1)!.id })).toEqual({ items: [], nextCursor: null, olderCursor: null });
    streams.run('log', { jobId: 'job-1', level: 'info', message: 'later' });
    applyAll();
    expect(logs({ after: seen.items.at(-1)!.id }).items.map((entry) => entry.message)).toEqual(['later']);
  });

  it('filters by one level or several', () => {
    jobWithLog(30);
    expect(logs({ level: 'error' }).items.map((entry) => entry.message)).toEqual(['line 9', 'line 19', 'line 29']);
    const page = logs({ level: ['warning', 'error'], limit: 4 });
    expect(page.items.map((entry) => [entry.level, entry.message])).toEqual([
      ['warning', 'line 4'],
      ['error', 'line 9'],
      ['warning', 'line 14'],
      ['error', 'line 19'],
    ]);
    expect(logs({ level: ['warning', 'error'], after: page.nextCursor }).items.map((entry) => entry.message)).toEqual([
      'line 24',
      'line 29',
    ]);
  });

  it('reads the log back from its newest entry, 100 entries at a time, each page oldest first', () => {
    jobWithLog(249);
    const newest = logs({ tail: true });
    expect(newest.items.map((entry) => entry.message)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${149 + i}`));
    expect(newest.nextCursor).toBeNull();
    expect(newest.olderCursor).toBe(newest.items[0]!.id);
    const middle = logs({ before: newest.olderCursor });
    expect(middle.items.map((entry) => entry.message)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${49 + i}`));
    expect(middle.nextCursor).toBe(middle.items.at(-1)!.id);
    const oldest = logs({ before: middle.olderCursor });
    expect(oldest.items).toHaveLength(50);
    expect(oldest.items[0]!.message).toBe('Import job created by alice: Editing in progress');
    expect(oldest.olderCursor).toBeNull();
    expect(oldest.nextCursor).toBe(oldest.items.at(-1)!.id);
    const all = [...oldest.items, ...middle.items, ...newest.items];
    expect(all).toEqual(logs({ limit: 1000 }).items);
    // The newest page's last entry is where reading on starts: a new entry comes after it.
    streams.run('log', { jobId: 'job-1', level: 'info', message: 'later' });
    applyAll();
    expect(logs({ after: newest.items.at(-1)!.id }).items.map((entry) => entry.message)).toEqual(['later']);
  });

  it('says no older entry when a page reaches the first, and stops at the ends', () => {
    jobWithLog(9);
    const all = logs({}).items;
    expect(all).toHaveLength(10);
    const [first, second] = [all[0]!, all[1]!];
    expect(logs({ tail: true, limit: 10 })).toEqual({ items: all, nextCursor: null, olderCursor: null });
    expect(logs({ tail: true, limit: 9 })).toEqual({ items: all.slice(1), nextCursor: null, olderCursor: second.id });
    expect(logs({ before: all[5]!.id, limit: 5 })).toEqual({ items: all.slice(0, 5), nextCursor: all[4]!.id, olderCursor: null });
    expect(logs({ before: second.id })).toEqual({ items: [first], nextCursor: first.id, olderCursor: null });
    expect(logs({ before: first.id })).toEqual({ items: [], nextCursor: null, olderCursor: null });
    expect(logs({ before: 0 })).toEqual({ items: [], nextCursor: null, olderCursor: null });
    // Beyond the newest entry, before reads the newest ones, as tail does.
    expect(logs({ before: all.at(-1)!.id + 1_000 })).toEqual(logs({ tail: true }));
    // A page read on from an entry says where to read back from.
    expect(logs({ after: first.id, limit: 3 })).toEqual({ items: all.slice(1, 4), nextCursor: all[3]!.id, olderCursor: second.id });
    expect(logs({ after: 0 }).olderCursor).toBeNull();
  });

  it('filters by level reading back as it does reading on', () => {
    jobWithLog(30);
    const errors = logs({ level: 'error', tail: true, limit: 2 });
    expect(errors.items.map((entry) => entry.message)).toEqual(['line 19', 'line 29']);
    expect(errors.olderCursor).toBe(errors.items[0]!.id);
    const earlier = logs({ level: 'error', before: errors.olderCursor, limit: 2 });
    expect(earlier.items.map((entry) => entry.message)).toEqual(['line 9']);
    expect(earlier).toMatchObject({ nextCursor: earlier.items[0]!.id, olderCursor: null });
    const notable = logs({ level: ['warning', 'error'], tail: true, limit: 3 });
    expect(notable.items.map((entry) => entry.message)).toEqual(['line 19', 'line 24', 'line 29']);
    expect(logs({ level: 'error', after: earlier.items[0]!.id }).olderCursor).toBe(errors.items[0]!.id);
    // Entries of other levels before the first error are no older entry of the filter.
    expect(logs({ level: 'error', after: earlier.items[0]!.id - 1 }).olderCursor).toBeNull();
    expect(logs({ level: 'info', tail: true, limit: 1 }).items.map((entry) => entry.message)).toEqual(['line 28']);
  });

  it.each([
    [['warning', 'error'], 'job_logs_notable_by_job'],
    [['error'], 'job_logs_notable_by_job'],
    [['info', 'error'], 'job_logs_by_job'],
    [undefined, 'job_logs_by_job'],
  ])('with levels %j walks %s in id order, either way', (level, index) => {
    jobWithLog(30);
    const plans = preparedSql((sql) => sql.includes('FROM job_logs'));
    // A page read on also looks back for an older entry: both statements are prepared.
    logs({ level, after: 5 });
    logs({ level, before: 20 });
    vi.restoreAllMocks();
    expect(plans).toHaveLength(2);
    for (const sql of plans) {
      const plan = queryPlan(sql, 'job-1', 10, ...(level ?? []), 101);
      expect(plan).toMatch(new RegExp(`USING (COVERING )?INDEX ${index} `));
      // Walked in order, the page ends the walk: no sort of every match.
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('has no entries for a job it does not know', () => {
    jobWithLog(1);
    expect(queries.jobLogs(querySchemas.logs.parse({ jobId: 'nope' }))).toEqual({ items: [], nextCursor: null, olderCursor: null });
    expect(queries.jobLogs(querySchemas.logs.parse({ jobId: 'nope', tail: true }))).toEqual({
      items: [],
      nextCursor: null,
      olderCursor: null,
    });
  });
});

describe('jobRejects', () => {
  const rejects = (body: object) => {
    const page = queries.jobRejects(querySchemas.rejects.parse({ jobId: 'job-1', ...body }));
    if ('code' in page) throw new Error(page.message);
    return page;
  };

  function rejectingJob(): void {
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import', rejectPolicy: { maxRejects: null } });
    streams.run('start', { jobId: 'job-1' });
  }

  it('pages the rejects in line order, a line rejected twice in the order of its rejects, with the total', () => {
    rejectingJob();
    streams.run('reject', { jobId: 'job-1', records: [9, 3, 7].map((line) => ({ line, reason: `first ${line}`, record: { line } })) });
    streams.run('reject', {
      jobId: 'job-1',
      records: [5, 3, 1].map((line) => ({ line, reason: `second ${line}`, record: `raw ${line}` })),
    });
    applyAll();
    const first = rejects({ limit: 4 });
    expect(first.total).toBe(6);
    expect(first.items.map((item) => [item.line, item.reason])).toEqual([
      [1, 'second 1'],
      [3, 'first 3'],
      [3, 'second 3'],
      [5, 'second 5'],
    ]);
    expect(first.items[2]).toEqual({ line: 3, reason: 'second 3', record: 'raw 3', at: new Date(T0 + 4000).toISOString() });
    const second = rejects({ limit: 4, cursor: first.nextCursor });
    expect(second).toMatchObject({ total: 6, nextCursor: null });
    expect(second.items.map((item) => [item.line, item.record])).toEqual([
      [7, { line: 7 }],
      [9, { line: 9 }],
    ]);
  });

  it('answers a cursor it did not make with VALIDATION_FAILED, and a job without rejects with none', () => {
    rejectingJob();
    applyAll();
    expect(rejects({})).toEqual({ items: [], total: 0, nextCursor: null });
    expect(queries.jobRejects(querySchemas.rejects.parse({ jobId: 'job-1', cursor: 'eyJ4IjoxfQ' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(queries.jobRejects(querySchemas.rejects.parse({ jobId: 'nope' }))).toEqual({ items: [], total: 0, nextCursor: null });
  });
});

describe('rejectsCsv', () => {
  const csv = (jobId: string) => [...queries.rejectsCsv(jobId)].join('');

  it('quotes as RFC 4180 says, and writes a record as it was: a string as is, anything else as JSON', () => {
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import', rejectPolicy: { maxRejects: null } });
    streams.run('start', { jobId: 'job-1' });
    streams.run('reject', {
      jobId: 'job-1',
      records: [
        { line: 2, reason: 'plain', record: 'a;b;c' },
        { line: 3, reason: 'has, comma', record: { email: 'say "hi"', n: 1 } },
        { line: 4, reason: 'has "quotes"', record: 'multi\r\nline' },
        { line: 5, reason: 'has\nnewline', record: ['x', 2, null] },
      ],
    });
    applyAll();
    const at = new Date(T0 + 3000).toISOString();
    expect(csv('job-1')).toBe(
      [
        'line,reason,record,at',
        `2,plain,a;b;c,${at}`,
        `3,"has, comma","{""email"":""say \\""hi\\"""",""n"":1}",${at}`,
        `4,"has ""quotes""","multi\r\nline",${at}`,
        `5,"has\nnewline","[""x"",2,null]",${at}`,
        '',
      ].join('\r\n'),
    );
    expect(csv('nope')).toBe('line,reason,record,at\r\n');
  });

  it('exports 100,000 rejects in chunks, every row in line order', () => {
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import', rejectPolicy: { maxRejects: null } });
    streams.run('start', { jobId: 'job-1' });
    for (let batch = 9; batch >= 0; batch--) {
      const records = Array.from({ length: 10_000 }, (_, i) => {
        const line = batch * 10_000 + i + 1;
        return { line, reason: line % 2 ? 'invalid email, "as typed"' : 'missing name', record: { email: `user-${line}@`, line } };
      });
      streams.run('reject', { jobId: 'job-1', records });
    }
    applyAll();
    expect(rejects100k().total).toBe(100_000);

    const chunks = [...queries.rejectsCsv('job-1')];
    expect(chunks.length).toBeGreaterThan(10);
    const rows = chunks.join('').split('\r\n');
    expect(rows.pop()).toBe('');
    expect(rows).toHaveLength(100_001);
    expect(rows[0]).toBe('line,reason,record,at');
    expect(rows[1]).toMatch(/^1,"invalid email, ""as typed""","{""email"":""user-1@"",""line"":1}",2024-/);
    expect(rows[100_000]).toMatch(/^100000,missing name,"{""email"":""user-100000@"",""line"":100000}",2024-/);
    expect(rows.map((row) => Number(row.slice(0, row.indexOf(',')))).slice(1)).toEqual(Array.from({ length: 100_000 }, (_, i) => i + 1));
  });

  function rejects100k() {
    const page = queries.jobRejects(querySchemas.rejects.parse({ jobId: 'job-1', limit: 1000 }));
    if ('code' in page) throw new Error(page.message);
    return page;
  }

  it('lets commits be applied while an export is read, and releases it when the reader stops early', () => {
    streams.run('create', { jobId: 'job-1', label: 'Contacts', kind: 'import', rejectPolicy: { maxRejects: null } });
    streams.run('start', { jobId: 'job-1' });
    streams.run('reject', {
      jobId: 'job-1',
      records: Array.from({ length: 10_000 }, (_, i) => ({ line: i + 1, reason: 'bad'.repeat(20), record: 'x'.repeat(20) })),
    });
    applyAll();
    const chunks = queries.rejectsCsv('job-1')[Symbol.iterator]();
    expect(chunks.next().done).toBe(false);
    streams.run('reject', { jobId: 'job-1', records: [{ line: 10_001, reason: 'late', record: 'y' }] });
    applyAll();
    // The export reads the snapshot it started on, which keeps SQLite from emptying its write-ahead log.
    const uncopiedFrames = () => {
      const [{ log, checkpointed }] = database.connection.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      return log - checkpointed;
    };
    expect(uncopiedFrames()).toBeGreaterThan(0);
    chunks.return?.();
    expect(uncopiedFrames()).toBe(0);
    expect(csv('job-1')).toContain('\r\n10001,late,y,');
  });
});

describe('querySchemas', () => {
  it('names the seven queries', () => {
    expect(QUERY_NAMES).toEqual(['list', 'status-counts', 'get', 'logs', 'rejects', 'rejects-export', 'history']);
    expect(isQueryName('rejects-export')).toBe(true);
    expect(isQueryName('toString')).toBe(false);
  });

  it('fills in defaults and turns one status or level into a list', () => {
    expect(querySchemas.list.parse({ status: 'running' })).toEqual({ status: ['running'], sort: 'createdAt', order: 'desc', limit: 50 });
    expect(querySchemas.logs.parse({ jobId: 'j', level: ['error', 'error'] })).toEqual({ jobId: 'j', level: ['error'], limit: 100 });
    expect(querySchemas.rejects.parse({ jobId: 'j', minPosition: 7 })).toEqual({ jobId: 'j', minPosition: 7, limit: 100 });
    expect(querySchemas.list.parse({ createdAfter: '2024-03-01T10:00:00+01:00' }).createdAfter).toBe('2024-03-01T09:00:00.000Z');
  });

  it('rejects unknown fields, bad values and out-of-range limits', () => {
    const bad: [keyof typeof querySchemas, object][] = [
      ['list', { color: 'red' }],
      ['list', { status: 'done' }],
      ['list', { limit: 501 }],
      ['list', { limit: 0 }],
      ['list', { createdBefore: 'yesterday' }],
      ['list', { sort: 'label' }],
      ['list', { minPosition: -1 }],
      ['get', {}],
      ['get', { jobId: 'a.b' }],
      ['logs', { jobId: 'j', limit: 1001 }],
      ['logs', { jobId: 'j', after: 1.5 }],
      ['rejects', { jobId: 'j', cursor: '' }],
      ['rejects-export', { jobId: 'j', limit: 5 }],
      ['history', { jobId: 'j', atVersion: 2, atTime: '2024-03-01T09:00:00Z' }],
    ];
    for (const [name, body] of bad) expect(querySchemas[name].safeParse(body).success, `${name} ${JSON.stringify(body)}`).toBe(false);
    expect(querySchemas.history.parse({ jobId: 'j', atVersion: 0 })).toEqual({ jobId: 'j', atVersion: 0, limit: 1_000 });
  });
});
