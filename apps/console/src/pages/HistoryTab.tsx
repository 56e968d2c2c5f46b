import type { HistoryReply, JobEvent, JobSnapshot } from '#contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ErrorMessage } from '../components/Messages.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { StatusBadge } from '../components/StatusIcon.js';
import { api } from '../lib/api.js';
import { describeEvent } from '../lib/events.js';
import { formatTime } from '../lib/format.js';
import type { JobChange } from '../lib/live.js';

const PAGE = 100;

/** Every event of the job: when, who, what and its correlation; and the job as it was at any of its versions. */
export function HistoryTab({ jobId, lastChange }: { jobId: string; lastChange: JobChange | null }) {
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  /** Set once the whole history is shown: where the events that come after are read from. */
  const latestCursor = useRef<string | null>(null);
  const [quarantined, setQuarantined] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [then, setThen] = useState<{ version: number; state: JobSnapshot | null } | null>(null);
  const path = `/jobs/${encodeURIComponent(jobId)}/history`;

  /** A page after those shown (the first when `cursor` is undefined), added to them. */
  const read = useCallback(
    async (cursor?: string, minPosition?: number) => {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (cursor !== undefined) query.set('cursor', cursor);
      if (minPosition !== undefined) query.set('minPosition', String(minPosition));
      try {
        const reply = await api<HistoryReply>(path, { query });
        // A page read twice (two changes close together) adds nothing twice.
        setEvents((shown) =>
          cursor === undefined ? reply.events : [...shown, ...reply.events.filter((event) => event.version > (shown.at(-1)?.version ?? 0))],
        );
        setNextCursor(reply.nextCursor);
        latestCursor.current = reply.latestCursor;
        setQuarantined((count) => (cursor === undefined ? 0 : count) + reply.quarantined.length);
        setError(null);
      } catch (caught) {
        setError((caught as Error).message);
      }
    },
    [path],
  );

  useEffect(() => void read(), [read]);

  // While the whole history is shown, the events that come after join it, read at most once a second.
  const due = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(due.current), []);
  useEffect(() => {
    if (!lastChange || latestCursor.current === null || due.current !== undefined) return;
    const position = lastChange.position;
    due.current = window.setTimeout(() => {
      due.current = undefined;
      if (latestCursor.current !== null) void read(latestCursor.current, position);
    }, 1000);
  }, [lastChange]);

  const more = async () => {
    if (nextCursor) await read(nextCursor);
  };

  const showVersion = async (version: number) => {
    try {
      const reply = await api<HistoryReply>(path, { query: new URLSearchParams({ atVersion: String(version), limit: '1' }) });
      setThen({ version, state: reply.state });
    } catch (caught) {
      setError((caught as Error).message);
    }
  };

  return (
    <>
      <ErrorMessage error={error} />
      {quarantined > 0 && (
        <p className="warning-note">
          {quarantined} message{quarantined === 1 ? '' : 's'} on this job's subject were not written by the service and are left out.
        </p>
      )}
      {then && (
        <section className="then" aria-labelledby="then-title" aria-live="polite">
          <h3 id="then-title">The job at version {then.version}</h3>
          {then.state ? (
            <>
              <p className="then-status">
                <StatusBadge status={then.state.status} />
                <ProgressBar job={then.state} withCounts />
              </p>
              <p>
                Label "{then.state.label}", {then.state.rejected} rejected, reject limit{' '}
                {then.state.rejectPolicy.maxRejects === null ? 'none' : then.state.rejectPolicy.maxRejects}.
              </p>
              <pre className="json">{JSON.stringify(then.state.definition, null, 2)}</pre>
            </>
          ) : (
            <p>The job did not exist yet.</p>
          )}
          <button type="button" onClick={() => setThen(null)}>
            Close
          </button>
        </section>
      )}
      <table className="history">
        <caption className="visually-hidden">Events of the job, oldest first</caption>
        <thead>
          <tr>
            <th scope="col" className="number">
              Version
            </th>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Correlation</th>
            <th scope="col">
              <span className="visually-hidden">State</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.eventId}>
              <td className="number">{event.version}</td>
              <td>
                <time dateTime={event.at}>{formatTime(event.at)}</time>
              </td>
              <td>
                {event.actor}{' '}
                <span className={event.actorAuthenticated ? 'tag tag-ok' : 'tag'}>
                  {event.actorAuthenticated ? 'authenticated' : 'not authenticated'}
                </span>
              </td>
              <td>{describeEvent(event)}</td>
              <td>
                <code className="id" title={`causation: ${event.causationId}`}>
                  {event.correlationId}
                </code>
              </td>
              <td>
                <button type="button" className="small" onClick={() => void showVersion(event.version)}>
                  State at version {event.version}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {nextCursor && (
        <button type="button" onClick={() => void more()}>
          Load {PAGE} more events
        </button>
      )}
    </>
  );
}
