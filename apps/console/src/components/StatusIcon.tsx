import { JOB_STATUS_LABELS, type JobStatus } from '#contracts';
import type { ReactNode } from 'react';

/** Drawn in currentColor on a 20-unit grid; each status its own shape, so colour is never the only difference. */
const SHAPES: Record<JobStatus, ReactNode> = {
  // A pencil: the job is being written.
  editing: <path d="M4 16l1-4 8.5-8.5 3 3L8 15zM11.5 5.5l3 3" fill="none" strokeWidth="1.8" strokeLinejoin="round" />,
  // A play sign in a ring.
  running: (
    <>
      <circle cx="10" cy="10" r="8" fill="none" strokeWidth="1.8" />
      <path d="M8 6.5v7l5.5-3.5z" stroke="none" />
    </>
  ),
  // Pause bars in a broken ring: asked, not yet confirmed.
  pausing: (
    <>
      <circle cx="10" cy="10" r="8" fill="none" strokeWidth="1.8" strokeDasharray="3 2.3" />
      <path d="M7.5 6.5v7M12.5 6.5v7" strokeWidth="2.2" />
    </>
  ),
  // Pause bars in a whole ring.
  paused: (
    <>
      <circle cx="10" cy="10" r="8" fill="none" strokeWidth="1.8" />
      <path d="M7.5 6.5v7M12.5 6.5v7" strokeWidth="2.2" />
    </>
  ),
  // A cross in a broken ring: asked, not yet confirmed.
  cancelling: (
    <>
      <circle cx="10" cy="10" r="8" fill="none" strokeWidth="1.8" strokeDasharray="3 2.3" />
      <path d="M7 7l6 6M13 7l-6 6" strokeWidth="2" />
    </>
  ),
  // A barred circle.
  cancelled: (
    <>
      <circle cx="10" cy="10" r="8" fill="none" strokeWidth="2" />
      <path d="M4.5 15.5l11-11" strokeWidth="2" />
    </>
  ),
  // A check mark on a filled disc.
  finished: (
    <>
      <circle cx="10" cy="10" r="9" stroke="none" />
      <path d="M5.8 10.3l2.8 2.8 5.6-5.8" fill="none" strokeWidth="2.2" className="icon-knockout" />
    </>
  ),
  // A warning triangle.
  finished_with_error: (
    <>
      <path d="M10 1.8L19 17.8H1z" stroke="none" />
      <path d="M10 7.5v5M10 14.6v1.4" strokeWidth="2" className="icon-knockout" />
    </>
  ),
  // A power sign.
  server_shutdown: <path d="M6.2 5.2a7 7 0 1 0 7.6 0M10 2.5v7" fill="none" strokeWidth="2" />,
};

/** A job status as its icon and its label. */
export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <span className={`status status-${status}`}>
      <StatusIcon status={status} />
      <span className="status-label">{JOB_STATUS_LABELS[status]}</span>
    </span>
  );
}

/** The icon alone is decoration: its label is always next to it. */
export function StatusIcon({ status }: { status: JobStatus }) {
  return (
    <svg
      className="status-icon"
      viewBox="0 0 20 20"
      width="20"
      height="20"
      aria-hidden="true"
      focusable="false"
      fill="currentColor"
      stroke="currentColor"
      strokeLinecap="round"
      data-status={status}
    >
      {SHAPES[status]}
    </svg>
  );
}
