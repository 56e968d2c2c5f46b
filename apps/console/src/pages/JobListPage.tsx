import { JOB_KINDS, JOB_STATUS_LABELS, JOB_STATUSES, type JobStatus, type JobSummary, type ListReply } from '#contracts';
import { type FormEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ErrorMessage, LiveIndicator } from '../components/Messages.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { StatusBadge, StatusIcon } from '../components/StatusIcon.js';
import { api } from '../lib/api.js';
import { countsQuery, type JobFilters, filtersFromSearch, listQuery, PAGE_SIZES, searchFromFilters, withLiveJob } from '../lib/filters.js';
import { formatTime, fromLocalInput, toLocalInput } from '../lib/format.js';
import { useJobChanges } from '../lib/live.js';
import { followLink, navigate } from '../lib/router.js';

type Counts = Record<JobStatus, number>;

const SORTS = [
  { value: 'createdAt:desc', label: 'Newest first (created)' },
  { value: 'createdAt:asc', label: 'Oldest first (created)' },
  { value: 'updatedAt:desc', label: 'Recently updated first' },
  { value: 'updatedAt:asc', label: 'Least recently updated first' },
] as const;

/** Cursors of the pages before this one, kept in the history entry: Previous goes back one. */
function previousCursors(): string[] {
  const state = window.history.state as { previousCursors?: string[] } | null;
  return state?.previousCursors ?? [];
}

/** The list of import/export jobs: filters in the address, pages by cursor, rows kept live. */
export function JobListPage({ search, mayCreate }: { search: string; mayCreate: boolean }) {
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const [rows, setRows] = useState<JobSummary[] | null>(null);
  const [listTotal, setListTotal] = useState(0);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [counts, setCounts] = useState<Counts | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadCounts = useCallback(
    (signal?: AbortSignal) =>
      api<{ counts: Counts }>('/jobs/status-counts', { query: countsQuery(filters), signal })
        .then((reply) => setCounts(reply.counts))
        .catch((caught: Error) => caught.name !== 'AbortError' && setError(caught.message)),
    [filters],
  );

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    api<ListReply>('/jobs', { query: listQuery(filters), signal: abort.signal })
      .then((reply) => {
        setRows(reply.items);
        setListTotal(reply.total);
        setNextCursor(reply.nextCursor);
      })
      .catch((caught: Error) => caught.name !== 'AbortError' && setError(caught.message));
    void loadCounts(abort.signal);
    return () => abort.abort();
  }, [filters, loadCounts]);

  // Counts follow the live feed too, read again at most once a second however busy the jobs are.
  const countsDue = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(countsDue.current), []);
  const live = useJobChanges(null, (change) => {
    setRows((shown) => (shown ? withLiveJob(shown, change.job, filters) : shown));
    if (countsDue.current === undefined) {
      countsDue.current = window.setTimeout(() => {
        countsDue.current = undefined;
        void loadCounts();
      }, 1000);
    }
  });

  const show = (changed: Partial<JobFilters>, state?: { previousCursors: string[] }) =>
    navigate(`/${searchFromFilters({ ...filters, cursor: '', ...changed })}`, { state });

  const counted: readonly JobStatus[] = filters.statuses.length ? filters.statuses : JOB_STATUSES;
  const total = counts ? counted.reduce((sum, status) => sum + counts[status], 0) : listTotal;
  const before = previousCursors();

  return (
    <>
      <div className="page-title">
        <h1>Import/export jobs</h1>
        {mayCreate && (
          <a className="button primary" href="/jobs/new" onClick={followLink}>
            New job
          </a>
        )}
      </div>
      <LiveIndicator state={live} />
      <FilterForm filters={filters} counts={counts} onChange={show} />
      <ErrorMessage error={error} />
      {rows && (
        <div className="table-scroll">
          <table className="jobs">
            <caption>
              {total === 1 ? '1 job' : `${total.toLocaleString('en-US')} jobs`}
              {searchFromFilters({ ...filters, cursor: '' }) ? ' matching the filters' : ''}
              {rows.length > 0 ? `; showing ${rows.length}` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Label</th>
                <th scope="col">Kind</th>
                <th scope="col">Created by</th>
                <th scope="col">Created</th>
                <th scope="col">Updated</th>
                <th scope="col">Progress</th>
                <th scope="col" className="number">
                  Rejected
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((job) => (
                <tr key={job.jobId} data-job-id={job.jobId}>
                  <td>
                    <StatusBadge status={job.status} />
                    {job.status === 'running' && job.executor === null && <span className="note">waiting for an executor</span>}
                    {job.lastError && <span className="note last-error-note">{job.lastError.message}</span>}
                  </td>
                  <td>
                    <a href={`/jobs/${encodeURIComponent(job.jobId)}`} onClick={followLink}>
                      {job.label}
                    </a>
                  </td>
                  <td>{job.kind}</td>
                  <td>{job.createdBy}</td>
                  <td>
                    <time dateTime={job.createdAt}>{formatTime(job.createdAt)}</time>
                  </td>
                  <td>
                    <time dateTime={job.updatedAt}>{formatTime(job.updatedAt)}</time>
                  </td>
                  <td>
                    <ProgressBar job={job} />
                  </td>
                  <td className="number">{job.rejected.toLocaleString('en-US')}</td>
                </tr>
              ))}
              {rows.length === 0 && (
                <tr>
                  <td colSpan={8} className="empty">
                    No job matches these filters.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages of jobs" hidden={!nextCursor && !filters.cursor}>
        {before.length > 0 ? (
          <button type="button" onClick={() => show({ cursor: before.at(-1)! }, { previousCursors: before.slice(0, -1) })}>
            Previous page
          </button>
        ) : (
          filters.cursor && (
            <button type="button" onClick={() => show({})}>
              First page
            </button>
          )
        )}
        <button
          type="button"
          disabled={!nextCursor}
          onClick={() => nextCursor && show({ cursor: nextCursor }, { previousCursors: [...before, filters.cursor] })}
        >
          Next page
        </button>
      </nav>
    </>
  );
}

interface FilterFormProps {
  filters: JobFilters;
  counts: Counts | null;
  onChange: (changed: Partial<JobFilters>) => void;
}

/** Statuses, kind and sort apply at once; the typed filters when the form is sent. */
function FilterForm({ filters, counts, onChange }: FilterFormProps) {
  const [draft, setDraft] = useState(() => typedFilters(filters));
  useEffect(() => setDraft(typedFilters(filters)), [filters]);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    onChange({
      createdBy: draft.createdBy.trim(),
      text: draft.text.trim(),
      createdAfter: fromLocalInput(draft.createdAfter),
      createdBefore: fromLocalInput(draft.createdBefore),
    });
  };
  const toggle = (status: JobStatus, on: boolean) =>
    onChange({ statuses: JOB_STATUSES.filter((s) => (s === status ? on : filters.statuses.includes(s))) });
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter the jobs">
      <fieldset className="status-filter">
        <legend>Status</legend>
        {JOB_STATUSES.map((status) => (
          <label key={status} className={`status-choice status-${status}`}>
            <input type="checkbox" checked={filters.statuses.includes(status)} onChange={(event) => toggle(status, event.target.checked)} />
            <StatusIcon status={status} />
            <span>{JOB_STATUS_LABELS[status]}</span>
            <span className="count">{counts ? counts[status].toLocaleString('en-US') : '…'}</span>
          </label>
        ))}
      </fieldset>
      <div className="filter-fields">
        <label>
          Kind
          <select value={filters.kind ?? ''} onChange={(event) => onChange({ kind: (event.target.value || null) as JobFilters['kind'] })}>
            <option value="">Any</option>
            {JOB_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {kind}
              </option>
            ))}
          </select>
        </label>
        <label>
          Created by
          <input value={draft.createdBy} onChange={(event) => setDraft({ ...draft, createdBy: event.target.value })} />
        </label>
        <label>
          Label contains
          <input type="search" value={draft.text} onChange={(event) => setDraft({ ...draft, text: event.target.value })} />
        </label>
        <label>
          Created from
          <input
            type="datetime-local"
            value={draft.createdAfter}
            onChange={(event) => setDraft({ ...draft, createdAfter: event.target.value })}
          />
        </label>
        <label>
          Created before
          <input
            type="datetime-local"
            value={draft.createdBefore}
            onChange={(event) => setDraft({ ...draft, createdBefore: event.target.value })}
          />
        </label>
        <label>
          Sort
          <select
            value={`${filters.sort}:${filters.order}`}
            onChange={(event) => {
              const [sort, order] = event.target.value.split(':') as [JobFilters['sort'], JobFilters['order']];
              onChange({ sort, order });
            }}
          >
            {SORTS.map((sort) => (
              <option key={sort.value} value={sort.value}>
                {sort.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Rows a page
          <select value={filters.limit} onChange={(event) => onChange({ limit: Number(event.target.value) })}>
            {PAGE_SIZES.map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </select>
        </label>
        <div className="filter-actions">
          <button type="submit">Apply filters</button>
          <a href="/" onClick={followLink}>
            Clear all
          </a>
        </div>
      </div>
    </form>
  );
}

function typedFilters(filters: JobFilters) {
  return {
    createdBy: filters.createdBy,
    text: filters.text,
    createdAfter: toLocalInput(filters.createdAfter),
    createdBefore: toLocalInput(filters.createdBefore),
  };
}
