import { describe, expect, it } from 'vitest';
import { MAX_QUERY_WAIT_MS, QUERY_NAMES, querySchemas, type QueryName } from './queries.js';

/** A valid body for each query; tests add the fields they are about. */
const SAMPLE_BODIES: Record<QueryName, Record<string, unknown>> = {
  list: {},
  'status-counts': {},
  get: { jobId: 'job-1' },
  logs: { jobId: 'job-1' },
  rejects: { jobId: 'job-1' },
  'rejects-export': { jobId: 'job-1' },
  history: { jobId: 'job-1' },
};

function issuesOf(name: QueryName, body: Record<string, unknown>): { path: string; message: string }[] {
  const parsed = querySchemas[name].safeParse({ ...SAMPLE_BODIES[name], ...body });
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

describe('maxWaitMs', () => {
  it.each(QUERY_NAMES)('%s takes how long it may wait for its minPosition, 0 to 60,000 ms', (name) => {
    for (const maxWaitMs of [0, 100, MAX_QUERY_WAIT_MS]) {
      expect(querySchemas[name].parse({ ...SAMPLE_BODIES[name], minPosition: 5, maxWaitMs })).toMatchObject({ maxWaitMs });
    }
    expect(querySchemas[name].parse(SAMPLE_BODIES[name])).not.toHaveProperty('maxWaitMs');
    expect(MAX_QUERY_WAIT_MS).toBe(60_000);
  });

  it.each([-1, 60_001, 1.5, '100', null])('refuses %j', (maxWaitMs) => {
    expect(issuesOf('list', { maxWaitMs }).map((issue) => issue.path)).toEqual(['maxWaitMs']);
  });
});

describe('a value that is none of the valid ones', () => {
  const STATUSES = 'editing, running, pausing, paused, cancelling, cancelled, finished, finished_with_error, server_shutdown';

  it.each<[QueryName, Record<string, unknown>, string, string]>([
    ['list', { status: 'finishd' }, 'status', `"finishd" is not a status; use one of ${STATUSES}`],
    ['list', { status: ['running', 'finishd'] }, 'status', `"finishd" is not a status; use one of ${STATUSES}`],
    ['list', { status: 3 }, 'status', `3 is not a status; use one of ${STATUSES}`],
    ['list', { kind: 'upload' }, 'kind', '"upload" is not a job kind; use one of import, export'],
    ['list', { sort: 'label' }, 'sort', '"label" is not a sort field; use one of createdAt, updatedAt'],
    ['list', { order: 'up' }, 'order', '"up" is not an order; use one of asc, desc'],
    ['logs', { level: 'warn' }, 'level', '"warn" is not a log level; use one of info, warning, error'],
    ['logs', { level: ['info', 'debug'] }, 'level', '"debug" is not a log level; use one of info, warning, error'],
  ])('%s %j is refused with the valid values', (name, body, path, message) => {
    expect(issuesOf(name, body)).toEqual([{ path, message }]);
  });

  it('still takes one value or several, as distinct values', () => {
    expect(querySchemas.list.parse({ status: 'running' }).status).toEqual(['running']);
    expect(querySchemas.logs.parse({ jobId: 'job-1', level: ['error', 'info', 'error'] }).level).toEqual(['error', 'info']);
    expect(issuesOf('list', { status: [] }).map((issue) => issue.path)).toEqual(['status']);
  });
});

describe('logs', () => {
  const WHICH = 'logs takes one of after, before and tail: after reads on from an entry, before reads back from one, tail reads the newest';

  it.each([
    { after: 5, before: 40 },
    { after: 5, tail: true },
    { before: 40, tail: true },
  ])('refuses %j: a page starts one way', (body) => {
    expect(issuesOf('logs', body)).toEqual([{ path: '', message: WHICH }]);
  });

  it('takes after, before or tail alone, and tail false with after', () => {
    for (const body of [{}, { after: 5 }, { before: 40 }, { tail: true }, { tail: false, after: 5 }])
      expect(issuesOf('logs', body)).toEqual([]);
    expect(issuesOf('logs', { before: -1 }).map((issue) => issue.path)).toEqual(['before']);
    expect(issuesOf('logs', { tail: 'true' }).map((issue) => issue.path)).toEqual(['tail']);
  });
});
