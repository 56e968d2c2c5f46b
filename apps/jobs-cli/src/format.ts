import Table from 'cli-table3';
import {
  JOB_STATUS_LABELS,
  rejectCsvRow,
  rejectRecordText,
  type JobEvent,
  type JobSummary,
  type LogEntry,
  type RejectEntry,
} from '#contracts';

/**
 * A job as the queries return it, with the `executor` the claim adds (the executor that runs it,
 * null while none does); absent from a service that does not report it.
 */
export type ListedJob = JobSummary & { executor?: string | null };

/** The source's status label; a running job no executor has taken says it waits for one. */
export function statusText(job: Pick<ListedJob, 'status' | 'statusLabel'> & { executor?: string | null }): string {
  const label = JOB_STATUS_LABELS[job.status] ?? job.statusLabel;
  return job.status === 'running' && job.executor === null ? `${label} (waiting for an executor)` : label;
}

/** Done so far: `500/1,000 (50%)`, or the count alone while the total is unknown. */
export function progressText(job: Pick<JobSummary, 'processed' | 'total' | 'progress'>): string {
  const done = job.processed.toLocaleString('en-US');
  if (job.total === null) return done;
  const percent = job.progress === null ? '' : ` (${job.progress}%)`;
  return `${done}/${job.total.toLocaleString('en-US')}${percent}`;
}

/** A time as `2024-03-01 09:00:05` (UTC): short enough for a table. */
export function shortTime(iso: string | null): string {
  return iso === null ? '' : iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

export const JOB_TABLE_HEAD = ['Job', 'Label', 'Kind', 'Status', 'Progress', 'Rejects', 'Created', 'By'];

/** One row of the job table; `!` marks a job with a warning (rejects, warnings or errors logged). */
export function jobRow(job: ListedJob): string[] {
  return [
    job.jobId,
    job.label,
    job.kind,
    `${statusText(job)}${job.warning ? ' !' : ''}`,
    progressText(job),
    String(job.rejected),
    shortTime(job.createdAt),
    job.createdBy,
  ];
}

/** The job list as a table, with the page's count and how to get the next page. */
export function jobTable(jobs: ListedJob[], page: { total: number; nextCursor: string | null }): string {
  const table = new Table({ head: JOB_TABLE_HEAD, style: { head: [], border: [] } });
  table.push(...jobs.map(jobRow));
  const shown = `${jobs.length} of ${page.total} job${page.total === 1 ? '' : 's'}`;
  const more = page.nextCursor === null ? '' : `; next page: --cursor ${page.nextCursor}`;
  return `${table.toString()}\n${shown}${more}`;
}

/** `show`: one field a line. */
export function jobDetails(job: ListedJob): string {
  const lines: [string, string][] = [
    ['Job', job.jobId],
    ['Label', job.label],
    ['Kind', job.kind],
    ['Status', statusText(job)],
  ];
  if (job.executor) lines.push(['Executor', job.executor]);
  lines.push(
    ['Progress', progressText(job)],
    ['Rejects', String(job.rejected)],
    ['Warning', job.warning ? 'yes' : 'no'],
    ['Created', `${shortTime(job.createdAt)} by ${job.createdBy}`],
    ['Started', shortTime(job.startedAt) || '-'],
    ['Ended', shortTime(job.endedAt) || '-'],
    ['Updated', shortTime(job.updatedAt)],
    ['Version', String(job.version)],
  );
  if (job.lastError) lines.push(['Last error', errorText(job.lastError)]);
  const width = Math.max(...lines.map(([name]) => name.length));
  return lines.map(([name, value]) => `${`${name}:`.padEnd(width + 2)}${value}`).join('\n');
}

function errorText(error: { message: string; code?: string }): string {
  return error.code ? `${error.message} (${error.code})` : error.message;
}

/** A log entry as one line: `2024-03-01 09:00:05  warning  message`. */
export function logLine(entry: Pick<LogEntry, 'at' | 'level' | 'message'>): string {
  return `${shortTime(entry.at)}  ${entry.level.padEnd(7)}  ${entry.message}`;
}

/** An event in a few words: what `watch` and `history` print for it. */
export function eventText(event: JobEvent): string {
  // Event types a newer service adds (a claim, a lease) are named as they come.
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'Created':
      return `created (${event.data.kind}: ${event.data.label})`;
    case 'DefinitionUpdated':
      return 'definition updated';
    case 'Started':
      return 'started';
    case 'PauseRequested':
      return 'pause requested';
    case 'Paused':
      return 'paused';
    case 'CancellationRequested':
      return 'cancellation requested';
    case 'Cancelled':
      return 'cancelled';
    case 'Finished':
      return 'finished';
    case 'Errored':
      return `failed: ${errorText(event.data.error)}`;
    case 'ServerShutdown':
      return `server shutdown${event.data.reason ? `: ${event.data.reason}` : ''}`;
    case 'ProgressReported':
      return `progress ${event.data.processed}${event.data.total === undefined ? '' : `/${event.data.total}`}`;
    case 'MessageLogged':
      return `${event.data.level}: ${event.data.message}`;
    case 'RecordsRejected':
      return `${event.data.records.length} record${event.data.records.length === 1 ? '' : 's'} rejected (${event.data.rejectedTotal} in all)`;
    default:
      return typeof data.executor === 'string' ? `${String(event.type)} by ${data.executor}` : String(event.type);
  }
}

/** A line for a change seen by `watch` when its output is no terminal: `time  job  what happened`. */
export function eventLine(event: JobEvent): string {
  return `${shortTime(event.at)}  ${event.jobId}  ${eventText(event)}`;
}

/** A line of `history`: the version, time, actor and what happened. */
export function historyLine(event: JobEvent): string {
  return `v${event.version}  ${shortTime(event.at)}  ${event.actor}  ${eventText(event)}`;
}

/**
 * A page of rejects as CSV rows (RFC 4180), as the service's rejects-export writes them: a string
 * record as it is, any other as its JSON.
 */
export function rejectsCsvRows(rejects: RejectEntry[]): string {
  return rejects.map(({ line, reason, record, at }) => rejectCsvRow(line, reason, rejectRecordText(record), at)).join('');
}

/** A reject as one readable line: `line 7: bad email  {"email":"x"}`. */
export function rejectLine({ line, reason, record }: RejectEntry): string {
  return `line ${line}: ${reason}  ${rejectRecordText(record)}`;
}
