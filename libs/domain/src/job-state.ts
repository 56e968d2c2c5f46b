import { DEFAULT_MAX_REJECTS, type JobKind, type JobStatus, type RejectPolicy, type UnpositionedJobEvent } from '#contracts';

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
  /** Set by rejected records, by warning or error log lines, and by a failure or a server shutdown (each logged as one). */
  warning: boolean;
  lastError: { message: string; code?: string } | null;
  /** The executor whose claim the job runs under, and its lease: null when no executor holds it. */
  executor: string | null;
  leaseMs: number | null;
  /** The last checkpoint reported: kept across runs, so that a restarted run resumes from it. Null until one is. */
  checkpoint: unknown;
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
    executor: null,
    leaseMs: null,
    checkpoint: null,
  };
}

/** Progress in percent, or null while the total is unknown. */
export function jobProgress(state: Pick<JobState, 'processed' | 'total' | 'status'>): number | null {
  if (state.status === 'finished') return 100;
  if (state.total === null || state.total === 0) return null;
  return Math.min(100, Math.round((state.processed / state.total) * 1000) / 10);
}

/** Pure: a job's state after one more event. */
export function evolve(state: JobState, event: UnpositionedJobEvent): JobState {
  // The event's own copy of the state, changed in place below: the caller's state is left as it was.
  const next = nextVersion(state, event);
  switch (event.type) {
    case 'Created':
      next.status = 'editing';
      next.label = event.data.label;
      next.kind = event.data.kind;
      next.definition = event.data.definition;
      next.rejectPolicy = event.data.rejectPolicy;
      next.createdAt = event.at;
      next.createdBy = event.actor;
      break;
    case 'DefinitionUpdated':
      next.label = event.data.label ?? next.label;
      next.definition = event.data.definition ?? next.definition;
      next.rejectPolicy = event.data.rejectPolicy ?? next.rejectPolicy;
      break;
    case 'Started':
      next.status = 'running';
      next.startedAt ??= event.at;
      // A new run: an executor claims it anew.
      releaseClaim(next);
      break;
    case 'Claimed':
      next.executor = event.data.executor;
      next.leaseMs = event.data.leaseMs;
      break;
    case 'PauseRequested':
      next.status = 'pausing';
      break;
    case 'Paused':
      next.status = 'paused';
      releaseClaim(next);
      break;
    case 'CancellationRequested':
      next.status = 'cancelling';
      break;
    case 'Cancelled':
      next.status = 'cancelled';
      next.endedAt = event.at;
      releaseClaim(next);
      break;
    case 'Finished':
      next.status = 'finished';
      next.endedAt = event.at;
      releaseClaim(next);
      next.processed = event.data.processed ?? next.processed;
      next.total = event.data.total ?? next.total;
      break;
    case 'Errored':
      next.status = 'finished_with_error';
      next.endedAt = event.at;
      next.lastError = event.data.error;
      // A failure is logged as an error line, a shutdown as a warning line: both raise the flag.
      next.warning = true;
      releaseClaim(next);
      break;
    case 'ServerShutdown':
      next.status = 'server_shutdown';
      next.warning = true;
      releaseClaim(next);
      break;
    case 'ProgressReported':
      next.processed = event.data.processed;
      next.total = event.data.total ?? next.total;
      if ('checkpoint' in event.data) next.checkpoint = event.data.checkpoint;
      break;
    case 'MessageLogged':
      next.warning ||= event.data.level !== 'info';
      break;
    case 'RecordsRejected':
      next.rejected = event.data.rejectedTotal;
      next.warning = true;
      break;
    default:
      // An event type from a newer schema: it still counts as a version.
      break;
  }
  return next;
}

/**
 * The state one event later, before the event's own changes. Every field is named: one fixed
 * object shape, copied once per event in a replay.
 */
function nextVersion(state: JobState, event: UnpositionedJobEvent): JobState {
  return {
    jobId: state.jobId,
    version: event.version,
    status: state.status,
    label: state.label,
    kind: state.kind,
    definition: state.definition,
    rejectPolicy: state.rejectPolicy,
    createdAt: state.createdAt,
    createdBy: state.createdBy,
    startedAt: state.startedAt,
    endedAt: state.endedAt,
    updatedAt: event.at,
    processed: state.processed,
    total: state.total,
    rejected: state.rejected,
    warning: state.warning,
    lastError: state.lastError,
    // A state stored before executors claimed jobs has none of these.
    executor: state.executor ?? null,
    leaseMs: state.leaseMs ?? null,
    checkpoint: state.checkpoint ?? null,
  };
}

/** The run ended or stopped: no executor holds the job any more. */
function releaseClaim(state: JobState): void {
  state.executor = null;
  state.leaseMs = null;
}

/** Pure: a job's state after its events, optionally stopping at a version. */
export function replayJob(jobId: string, events: Iterable<UnpositionedJobEvent>, untilVersion = Infinity): JobState {
  let state = initialJobState(jobId);
  for (const event of events) {
    if (event.version > untilVersion) break;
    state = evolve(state, event);
  }
  return state;
}
