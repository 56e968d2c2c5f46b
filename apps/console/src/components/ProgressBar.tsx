import { describeProgress } from '../lib/format.js';

interface Props {
  job: { label: string; processed: number; total: number | null; progress: number | null };
  /** Shows the processed and total counts next to the bar. */
  withCounts?: boolean;
}

/** A job's progress; without a known total the bar has no value, and says so. */
export function ProgressBar({ job, withCounts = false }: Props) {
  const percent = job.progress === null ? null : Math.max(0, Math.min(100, Math.floor(job.progress)));
  const text = describeProgress(job);
  return (
    <span className="progress">
      <span
        className={`progress-track${percent === null ? ' progress-unknown' : ''}`}
        role="progressbar"
        aria-label={`Progress of ${job.label}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={text}
        title={text}
      >
        <span className="progress-fill" style={{ width: `${percent ?? 0}%` }} />
      </span>
      <span className="progress-text">{withCounts ? text : percent === null ? '—' : `${percent}%`}</span>
    </span>
  );
}
