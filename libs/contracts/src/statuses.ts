/** The nine job statuses of the source document, with the labels people see. */
export const JOB_STATUSES = [
  'editing',
  'running',
  'pausing',
  'paused',
  'cancelling',
  'cancelled',
  'finished',
  'finished_with_error',
  'server_shutdown',
] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_STATUS_LABELS: Readonly<Record<JobStatus, string>> = {
  editing: 'Editing in progress',
  running: 'Execution in progress',
  pausing: 'Pause in progress',
  paused: 'Paused',
  cancelling: 'Cancellation in progress',
  cancelled: 'Cancel',
  finished: 'Finished',
  finished_with_error: 'Finished with error',
  server_shutdown: 'Server shutdown in progress',
};

/** Statuses no command can leave. */
export const FINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['cancelled', 'finished', 'finished_with_error']);

/** Statuses in which an executor is working on the job (progress and rejects are accepted). */
export const EXECUTING_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['running', 'pausing', 'cancelling']);

export const JOB_KINDS = ['import', 'export'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const LOG_LEVELS = ['info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Source default ("Behavior in the event of an error"): stop once 100 records are rejected. */
export const DEFAULT_MAX_REJECTS = 100;
