import { EXECUTING_JOB_STATUSES, type JobStatus } from '#contracts';

/** A duration in the words of a clock: "45 s", "3 min 05 s", "2 h 03 min 05 s". */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h} h ${two(min)} min ${two(s)} s`;
  if (min > 0) return `${min} min ${two(s)} s`;
  return `${s} s`;
}

/**
 * How long a job has run: from its first start to its end; to `now` while an executor works on it;
 * to its last change while it waits (paused, stopped by a shutdown). Null before it started.
 */
export function jobDuration(
  job: { status: JobStatus; startedAt: string | null; endedAt: string | null; updatedAt: string },
  now: number,
): number | null {
  if (!job.startedAt) return null;
  const until = job.endedAt ?? (EXECUTING_JOB_STATUSES.has(job.status) ? new Date(now).toISOString() : job.updatedAt);
  return Date.parse(until) - Date.parse(job.startedAt);
}

/** A time as the reader's locale writes it, to the second. */
export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The value of a datetime-local input for an ISO time, in the reader's time zone; and back. */
export function toLocalInput(iso: string): string {
  if (!iso) return '';
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function fromLocalInput(value: string): string {
  return value ? new Date(value).toISOString() : '';
}

/** "1,234 of 5,000 processed" for a progress bar's text; the total may be unknown. */
export function describeProgress(job: { processed: number; total: number | null; progress: number | null }): string {
  const processed = job.processed.toLocaleString('en-US');
  if (job.total === null) return `${processed} processed, total not known yet`;
  return `${processed} of ${job.total.toLocaleString('en-US')} processed (${Math.floor(job.progress ?? 0)}%)`;
}
