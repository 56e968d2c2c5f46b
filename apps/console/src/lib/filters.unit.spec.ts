import { describe, expect, it } from 'vitest';
import type { JobSummary } from '#contracts';
import { countsQuery, filtersFromSearch, listQuery, NO_FILTERS, searchFromFilters, withLiveJob } from './filters.js';

const summary = (jobId: string, overrides: Partial<JobSummary> = {}): JobSummary =>
  ({
    jobId,
    label: `Job ${jobId}`,
    kind: 'import',
    status: 'editing',
    statusLabel: 'Editing in progress',
    createdAt: '2026-12-01T10:00:00.000Z',
    createdBy: 'alice',
    startedAt: null,
    endedAt: null,
    updatedAt: '2026-12-01T10:00:00.000Z',
    processed: 0,
    total: null,
    rejected: 0,
    progress: null,
    warning: false,
    lastError: null,
    executor: null,
    version: 1,
    ...overrides,
  }) as JobSummary;

describe('the job list filters in the URL', () => {
  it('round-trips every filter through the address', () => {
    const filters = {
      statuses: ['running' as const, 'paused' as const],
      kind: 'export' as const,
      createdBy: 'bob',
      text: 'contacts',
      createdAfter: '2026-11-01T00:00:00.000Z',
      createdBefore: '2026-12-01T00:00:00.000Z',
      sort: 'updatedAt' as const,
      order: 'asc' as const,
      limit: 50,
      cursor: 'abc',
    };
    const search = searchFromFilters(filters);
    expect(search).toContain('status=running&status=paused');
    expect(filtersFromSearch(search)).toEqual(filters);
  });

  it('gives the plain list a plain address, and reads a hand-edited one as far as it makes sense', () => {
    expect(searchFromFilters(NO_FILTERS)).toBe('');
    expect(filtersFromSearch('?status=runing&status=paused&kind=csv&sort=label&createdAfter=yesterday&limit=7')).toEqual({
      ...NO_FILTERS,
      statuses: ['paused'],
    });
  });

  it('asks the API for the page, and for the counts without the statuses', () => {
    const filters = { ...NO_FILTERS, statuses: ['running' as const], text: 'x', createdAfter: '2026-11-01T00:00:00+01:00' };
    expect(listQuery(filters).toString()).toBe(
      'text=x&createdAfter=2026-10-31T23%3A00%3A00.000Z&status=running&sort=createdAt&order=desc&limit=25',
    );
    expect(countsQuery(filters).toString()).toBe('text=x&createdAfter=2026-10-31T23%3A00%3A00.000Z');
  });
});

describe('a live change in the list', () => {
  it('replaces the row of a job shown, unless the change is older than the row', () => {
    const rows = [summary('a', { version: 3 }), summary('b')];
    expect(withLiveJob(rows, summary('a', { version: 4, status: 'running' }), NO_FILTERS)[0]!.status).toBe('running');
    expect(withLiveJob(rows, summary('a', { version: 2, status: 'editing' }), NO_FILTERS)[0]!.version).toBe(3);
  });

  it('puts a new job at the top of the first page, newest first, when it matches the filters', () => {
    const rows = [summary('a'), summary('b')];
    const fresh = summary('c', { createdAt: '2026-12-02T10:00:00.000Z' });
    expect(withLiveJob(rows, fresh, NO_FILTERS).map((row) => row.jobId)).toEqual(['c', 'a', 'b']);
    expect(withLiveJob(rows, fresh, { ...NO_FILTERS, limit: 2 }).map((row) => row.jobId)).toEqual(['c', 'a']);
    expect(withLiveJob(rows, fresh, { ...NO_FILTERS, kind: 'export' })).toEqual(rows);
    expect(withLiveJob(rows, fresh, { ...NO_FILTERS, cursor: 'page-2' })).toEqual(rows);
    expect(withLiveJob(rows, fresh, { ...NO_FILTERS, order: 'asc' })).toEqual(rows);
  });
});
