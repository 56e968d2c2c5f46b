import { DEFAULT_MAX_REJECTS, type JobKind, type JobStatus, type RejectPolicy } from '#contracts';

/** A job as its events make it: what the decider needs, and what a replay shows at any version. */
export interface JobState {
  jobId: string;
  /** Number of events so far; 0 means the job does not exist. */
  version: number;
  status: JobStatus | null;
  label: string | null;
  kind: JobKind | null;
  definition: Record<string, unknown>;
  rejectPolicy: RejectPolicy;
  createdAt: string | null;
  createdBy: string | null;
  /** First time the job started. */
  startedAt: string | null;
  /** Time it reached a final status. */
  endedAt: string | null;
  updatedAt: string | null;
  processed: number;
  total: number | null;
  rejected: number;
  /** Set by rejected records and by warning or error log lines. */
  warning: boolean;
  lastError: { message: string; code?: string } | null;
}

export function initialJobState(jobId: string): JobState {
  return {
    jobId,
    version: 0,
    status: null,
    label: null,
    kind: null,
    definition: {},
    rejectPolicy: { maxRejects: DEFAULT_MAX_REJECTS },
    createdAt: null,
    createdBy: null,
    startedAt: null,
    endedAt: null,
    updatedAt: null,
    processed: 0,
    total: null,
    rejected: 0,
    warning: false,
    lastError: null,
  };
}

/** Progress in percent, or null while the total is unknown. */
export function jobProgress(state: Pick<JobState, 'processed' | 'total' | 'status'>): number | null {
  if (state.status === 'finished') return 100;
  if (state.total === null || state.total === 0) return null;
  return Math.min(100, Math.round((state.processed / state.total) * 1000) / 10);
}
