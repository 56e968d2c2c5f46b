import { describe, expect, it } from 'vitest';
import { MAX_QUERY_WAIT_MS, QUERY_NAMES, querySchemas, type QueryName } from './queries.js';

/** A valid body for each query; tests add the fields they are about. */
const SAMPLE_BODIES: Record<QueryName, Record<string, unknown>> = {
  list: {},
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
