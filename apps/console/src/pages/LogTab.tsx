import { LOG_LEVELS, type LogEntry, type LogLevel, type LogsReply } from '#contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ErrorMessage } from '../components/Messages.js';
import { api } from '../lib/api.js';
import { formatTime } from '../lib/format.js';
import type { JobChange } from '../lib/live.js';

const PAGE = 100;

/** The job's log, oldest first, 100 lines at a time; once the last line is read, new ones are appended as they come. */
export function LogTab({ jobId, lastChange }: { jobId: string; lastChange: JobChange | null }) {
  const [levels, setLevels] = useState<LogLevel[]>([]);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [nextCursor, setNextCursor] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reading = useRef<Promise<void>>(Promise.resolve());
  /** Counts fresh starts (another level filter): a read begun before one shows nothing. */
  const generation = useRef(0);

  const read = useCallback(
    (after: number | null, minPosition?: number, fresh = false) => {
      if (fresh) generation.current += 1;
      const mine = generation.current;
      // One read at a time, in order, so lines are appended once and in order.
      reading.current = reading.current.then(async () => {
        if (mine !== generation.current) return;
        const query = new URLSearchParams({ limit: String(PAGE) });
        for (const level of levels) query.append('level', level);
        if (after !== null) query.set('after', String(after));
        if (minPosition !== undefined) query.set('minPosition', String(minPosition));
        try {
          const reply = await api<LogsReply>(`/jobs/${encodeURIComponent(jobId)}/logs`, { query });
          if (mine !== generation.current) return;
          setEntries((shown) => {
            const base = fresh ? [] : shown;
            const last = base.at(-1)?.id ?? -1;
            return [...base, ...reply.items.filter((entry) => entry.id > last)];
          });
          setNextCursor(reply.nextCursor);
          setLoaded(true);
          setError(null);
        } catch (caught) {
          setError((caught as Error).message);
        }
      });
    },
    [jobId, levels],
  );

  useEffect(() => read(null, undefined, true), [read]);

  const lastId = entries.at(-1)?.id ?? null;
  const atEnd = loaded && nextCursor === null;
  // Only a new change reads again; the lines it brings move lastId.
  useEffect(() => {
    if (lastChange && atEnd) read(lastId, lastChange.position);
  }, [lastChange]);

  const toggle = (level: LogLevel, on: boolean) => setLevels(LOG_LEVELS.filter((l) => (l === level ? on : levels.includes(l))));

  return (
    <>
      <fieldset className="inline-filter">
        <legend>Levels shown (none ticked: all)</legend>
        {LOG_LEVELS.map((level) => (
          <label key={level}>
            <input type="checkbox" checked={levels.includes(level)} onChange={(event) => toggle(level, event.target.checked)} /> {level}
          </label>
        ))}
      </fieldset>
      <ErrorMessage error={error} />
      <table className="log">
        <caption className="visually-hidden">Log of the job, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Level</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody aria-live="polite" aria-relevant="additions">
          {entries.map((entry) => (
            <tr key={entry.id} className={`level-${entry.level}`}>
              <td>
                <time dateTime={entry.at}>{formatTime(entry.at)}</time>
              </td>
              <td>
                <span className={`level level-${entry.level}`}>{entry.level}</span>
              </td>
              <td className="message">{entry.message}</td>
            </tr>
          ))}
          {loaded && entries.length === 0 && (
            <tr>
              <td colSpan={3} className="empty">
                No log line{levels.length ? ' at these levels' : ''} yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {nextCursor !== null && (
        <button type="button" onClick={() => read(nextCursor)}>
          Load the next {PAGE} lines
        </button>
      )}
    </>
  );
}
