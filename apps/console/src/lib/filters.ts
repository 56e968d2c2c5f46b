import { JOB_KINDS, JOB_STATUSES, type JobKind, type JobStatus, type JobSummary } from '#contracts';

/** What the list of jobs shows: the filters, the sort and the page, all of it in the console's URL. */
export interface JobFilters {
  statuses: JobStatus[];
  kind: JobKind | null;
  createdBy: string;
  text: string;
  /** ISO-8601 times, or empty. */
  createdAfter: string;
  createdBefore: string;
  sort: 'createdAt' | 'updatedAt';
  order: 'asc' | 'desc';
  /** Rows a page: one of PAGE_SIZES. */
  limit: number;
  /** The page's cursor; empty on the first page. */
  cursor: string;
}

export const PAGE_SIZES = [10, 25, 50, 100] as const;

export const NO_FILTERS: JobFilters = {
  statuses: [],
  kind: null,
  createdBy: '',
  text: '',
  createdAfter: '',
  createdBefore: '',
  sort: 'createdAt',
  order: 'desc',
  limit: 25,
  cursor: '',
};

const isKind = (value: string): value is JobKind => (JOB_KINDS as readonly string[]).includes(value);
const isTime = (value: string) => value !== '' && !Number.isNaN(Date.parse(value));

/** The filters a URL's query names; what it names wrongly is left out, so a hand-edited link still opens. */
export function filtersFromSearch(search: string): JobFilters {
  const params = new URLSearchParams(search);
  const text = (name: string) => params.get(name)?.trim() ?? '';
  const kind = text('kind');
  const createdAfter = text('createdAfter');
  const createdBefore = text('createdBefore');
  return {
    statuses: JOB_STATUSES.filter((status) => params.getAll('status').includes(status)),
    kind: isKind(kind) ? kind : null,
    createdBy: text('createdBy'),
    text: text('text'),
    createdAfter: isTime(createdAfter) ? createdAfter : '',
    createdBefore: isTime(createdBefore) ? createdBefore : '',
    sort: text('sort') === 'updatedAt' ? 'updatedAt' : 'createdAt',
    order: text('order') === 'asc' ? 'asc' : 'desc',
    limit: PAGE_SIZES.find((size) => String(size) === text('limit')) ?? NO_FILTERS.limit,
    cursor: text('cursor'),
  };
}

/** The console URL's query for the filters: only what differs from the defaults, so a plain list has a plain address. */
export function searchFromFilters(filters: JobFilters): string {
  const params = new URLSearchParams();
  for (const status of filters.statuses) params.append('status', status);
  if (filters.kind) params.set('kind', filters.kind);
  if (filters.createdBy) params.set('createdBy', filters.createdBy);
  if (filters.text) params.set('text', filters.text);
  if (filters.createdAfter) params.set('createdAfter', filters.createdAfter);
  if (filters.createdBefore) params.set('createdBefore', filters.createdBefore);
  if (filters.sort !== NO_FILTERS.sort) params.set('sort', filters.sort);
  if (filters.order !== NO_FILTERS.order) params.set('order', filters.order);
  if (filters.limit !== NO_FILTERS.limit) params.set('limit', String(filters.limit));
  if (filters.cursor) params.set('cursor', filters.cursor);
  const query = params.toString();
  return query ? `?${query}` : '';
}

/** The HTTP API's query for one page of the list (`GET /api/v1/jobs`). */
export function listQuery(filters: JobFilters): URLSearchParams {
  const params = new URLSearchParams(countsQuery(filters));
  for (const status of filters.statuses) params.append('status', status);
  params.set('sort', filters.sort);
  params.set('order', filters.order);
  params.set('limit', String(filters.limit));
  if (filters.cursor) params.set('cursor', filters.cursor);
  return params;
}

/** The HTTP API's query for the number of jobs in each status (`GET /api/v1/jobs/status-counts`): every filter but the statuses. */
export function countsQuery(filters: JobFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.kind) params.set('kind', filters.kind);
  if (filters.createdBy) params.set('createdBy', filters.createdBy);
  if (filters.text) params.set('text', filters.text);
  if (filters.createdAfter) params.set('createdAfter', new Date(filters.createdAfter).toISOString());
  if (filters.createdBefore) params.set('createdBefore', new Date(filters.createdBefore).toISOString());
  return params;
}

/** Whether a job the live feed reports belongs in the list as filtered, the way the service filters. */
export function matchesFilters(job: JobSummary, filters: JobFilters): boolean {
  if (filters.statuses.length > 0 && !filters.statuses.includes(job.status)) return false;
  if (filters.kind && job.kind !== filters.kind) return false;
  if (filters.createdBy && job.createdBy !== filters.createdBy) return false;
  if (filters.text && !job.label.toLowerCase().includes(filters.text.toLowerCase())) return false;
  if (filters.createdAfter && Date.parse(job.createdAt) < Date.parse(filters.createdAfter)) return false;
  if (filters.createdBefore && Date.parse(job.createdAt) >= Date.parse(filters.createdBefore)) return false;
  return true;
}

/**
 * Where a job the live feed reports goes in the rows shown: replaced where it is; a new job that
 * belongs at the top of the first page is put there. Rows are never reordered under the reader.
 */
export function withLiveJob(rows: readonly JobSummary[], job: JobSummary, filters: JobFilters): JobSummary[] {
  const index = rows.findIndex((row) => row.jobId === job.jobId);
  if (index >= 0) {
    // An older summary than the one shown (a read that answered before the feed) changes nothing.
    if (rows[index]!.version > job.version) return [...rows];
    return rows.map((row, i) => (i === index ? job : row));
  }
  const newestFirst = filters.sort === 'createdAt' && filters.order === 'desc';
  if (!newestFirst || filters.cursor || !matchesFilters(job, filters)) return [...rows];
  if (rows.length > 0 && Date.parse(rows[0]!.createdAt) > Date.parse(job.createdAt)) return [...rows];
  return [job, ...rows].slice(0, filters.limit);
}
