import { LOG_LEVELS, type LogEntry, type LogLevel, type LogsReply } from '#contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ErrorMessage } from '../components/Messages.js';
import { api } from '../lib/api.js';
import { formatTime } from '../lib/format.js';
import type { JobChange } from '../lib/live.js';

const PAGE = 100;

/** Where a read of the log starts: the newest lines, the lines before the first shown, or those after the last shown. */
type LogRead = { tail: true } | { older: true } | { newer: true; minPosition: number };

/**
 * The job's log as it reads, oldest line at the top: first its newest 100 lines, older ones 100 at a
 * time on request, and new ones appended as they come.
 */
export function LogTab({ jobId, lastChange }: { jobId: string; lastChange: JobChange | null }) {
  const [levels, setLevels] = useState<LogLevel[]>([]);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  /** The lines shown as of the last read, for the next read to start from before React renders them. */
  const shown = useRef<LogEntry[]>([]);
  /** The first line the tab showed: lines before it were asked for, and are no news to announce. */
  const [firstShown, setFirstShown] = useState<number | null>(null);
  const [olderCursor, setOlderCursor] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const reading = useRef<Promise<void>>(Promise.resolve());
  /** Counts fresh starts (another level filter): a read begun before one shows nothing. */
  const generation = useRef(0);

  const read = useCallback(
    (from: LogRead) => {
      if ('tail' in from) generation.current += 1;
      const mine = generation.current;
      const page = async (where: Record<string, string>) => {
        const query = new URLSearchParams({ limit: String(PAGE), ...where });
        for (const level of levels) query.append('level', level);
        const reply = await api<LogsReply>(`/jobs/${encodeURIComponent(jobId)}/logs`, { query });
        return mine === generation.current ? reply : null;
      };
      const show = (lines: LogEntry[]) => {
        shown.current = lines;
        setEntries(lines);
      };
      // One read at a time, in order, so lines are added once and in order.
      reading.current = reading.current.then(async () => {
        if (mine !== generation.current) return;
        try {
          if ('tail' in from) {
            const reply = await page({ tail: 'true' });
            if (!reply) return;
            show(reply.items);
            setFirstShown(reply.items[0]?.id ?? null);
            setOlderCursor(reply.olderCursor);
          } else if ('older' in from) {
            const first = shown.current[0];
            if (!first) return;
            const reply = await page({ before: String(first.id) });
            if (!reply) return;
            show([...reply.items, ...shown.current]);
            setOlderCursor(reply.olderCursor);
          } else {
            // More lines may have come than a page holds: read on to the newest.
            for (let more = true; more; ) {
              const last = shown.current.at(-1);
              const reply = await page({ minPosition: String(from.minPosition), ...(last ? { after: String(last.id) } : {}) });
              if (!reply) return;
              show([...shown.current, ...reply.items]);
              more = reply.nextCursor !== null;
            }
          }
          setLoaded(true);
          setError(null);
        } catch (caught) {
          setError((caught as Error).message);
        }
      });
    },
    [jobId, levels],
  );

  useEffect(() => read({ tail: true }), [read]);

  // Only a new change reads again, on from the last line shown.
  useEffect(() => {
    if (lastChange && loaded) read({ newer: true, minPosition: lastChange.position });
  }, [lastChange]);

  const toggle = (level: LogLevel, on: boolean) => setLevels(LOG_LEVELS.filter((l) => (l === level ? on : levels.includes(l))));
  const asked = firstShown === null ? [] : entries.filter((entry) => entry.id < firstShown);
  const announced = firstShown === null ? entries : entries.filter((entry) => entry.id >= firstShown);

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
      {olderCursor !== null && (
        <button type="button" onClick={() => read({ older: true })}>
          Load {PAGE} older lines
        </button>
      )}
      <table className="log">
        <caption className="visually-hidden">Log of the job, oldest line at the top, newest at the bottom</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Level</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        {asked.length > 0 && (
          <tbody>
            {asked.map((entry) => (
              <LogRow key={entry.id} entry={entry} />
            ))}
          </tbody>
        )}
        <tbody aria-live="polite" aria-relevant="additions">
          {announced.map((entry) => (
            <LogRow key={entry.id} entry={entry} />
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
    </>
  );
}

function LogRow({ entry }: { entry: LogEntry }) {
  return (
    <tr className={`level-${entry.level}`}>
      <td>
        <time dateTime={entry.at}>{formatTime(entry.at)}</time>
      </td>
      <td>
        <span className={`level level-${entry.level}`}>{entry.level}</span>
      </td>
      <td className="message">{entry.message}</td>
    </tr>
  );
}
