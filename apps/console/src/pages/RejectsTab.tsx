import type { RejectsReply } from '#contracts';
import { useCallback, useEffect, useState } from 'react';
import { ErrorMessage } from '../components/Messages.js';
import { api } from '../lib/api.js';
import { formatTime } from '../lib/format.js';
import type { JobChange } from '../lib/live.js';

const PAGE = 20;

/** The records the job rejected, a page at a time, with their total and the whole list as CSV. */
export function RejectsTab({ jobId, lastChange }: { jobId: string; lastChange: JobChange | null }) {
  const [page, setPage] = useState<RejectsReply | null>(null);
  /** Cursors of this page and the ones before it; '' is the first page. */
  const [cursors, setCursors] = useState<string[]>(['']);
  const [error, setError] = useState<string | null>(null);
  const cursor = cursors.at(-1)!;

  const read = useCallback(
    async (minPosition?: number) => {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (cursor) query.set('cursor', cursor);
      if (minPosition !== undefined) query.set('minPosition', String(minPosition));
      try {
        setPage(await api<RejectsReply>(`/jobs/${encodeURIComponent(jobId)}/rejects`, { query }));
        setError(null);
      } catch (caught) {
        setError((caught as Error).message);
      }
    },
    [jobId, cursor],
  );

  useEffect(() => void read(), [read]);
  // A new change reads the page again, not a new page.
  useEffect(() => {
    if (lastChange?.types.includes('RecordsRejected')) void read(lastChange.position);
  }, [lastChange]);

  const first = (cursors.length - 1) * PAGE + 1;
  return (
    <>
      <div className="tab-head">
        <p aria-live="polite">
          {page ? `${page.total.toLocaleString('en-US')} rejected record${page.total === 1 ? '' : 's'}` : 'Loading the rejects…'}
          {page && page.items.length > 0 ? `; showing ${first} to ${first + page.items.length - 1}` : ''}
        </p>
        <a className="button" href={`/api/v1/jobs/${encodeURIComponent(jobId)}/rejects.csv`} download>
          Download CSV
        </a>
      </div>
      <ErrorMessage error={error} />
      <table className="rejects">
        <caption className="visually-hidden">Rejected records</caption>
        <thead>
          <tr>
            <th scope="col" className="number">
              Line
            </th>
            <th scope="col">Reason</th>
            <th scope="col">Record</th>
            <th scope="col">Rejected at</th>
          </tr>
        </thead>
        <tbody>
          {page?.items.map((reject, index) => (
            <tr key={first + index}>
              <td className="number">{reject.line}</td>
              <td>{reject.reason}</td>
              <td>
                <code>{typeof reject.record === 'string' ? reject.record : JSON.stringify(reject.record)}</code>
              </td>
              <td>
                <time dateTime={reject.at}>{formatTime(reject.at)}</time>
              </td>
            </tr>
          ))}
          {page?.items.length === 0 && (
            <tr>
              <td colSpan={4} className="empty">
                No record was rejected.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <nav className="pager" aria-label="Pages of rejects">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page?.nextCursor} onClick={() => page?.nextCursor && setCursors([...cursors, page.nextCursor])}>
          Next page
        </button>
      </nav>
    </>
  );
}
