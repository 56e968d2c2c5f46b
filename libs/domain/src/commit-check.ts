import { EXECUTING_JOB_STATUSES, readStoredCommit, type JobEventType, type JobStatus, type UnpositionedJobEvent } from '#contracts';
import { evolve, type JobState } from './job-state.js';

/** A commit as read from the event store, before anything in it is trusted. */
export interface CommitToCheck {
  /** The job its subject names: the only job it may change, whatever its body says. */
  jobId: string;
  /** The job version its `Job-Version` header names; null when it has none or not a number. */
  version: number | null;
  /** Its body as stored: a JSON array of the events one command produced. */
  events: string;
}

export type CommitCheck = { ok: true; events: UnpositionedJobEvent[]; state: JobState } | { ok: false; reason: string };

/** The statuses each event type may follow: what the decider could have decided. */
const ALLOWED_AFTER: Record<Exclude<JobEventType, 'Created' | 'MessageLogged'>, ReadonlySet<JobStatus>> = {
  DefinitionUpdated: new Set(['editing']),
  Started: new Set(['editing', 'paused', 'server_shutdown']),
  Claimed: new Set(['running']),
  PauseRequested: new Set(['running']),
  // From running only when no executor holds the job (see unclaimedOnly).
  Paused: new Set(['running', 'pausing']),
  CancellationRequested: new Set(['running', 'pausing']),
  Cancelled: new Set(['editing', 'running', 'paused', 'server_shutdown', 'cancelling']),
  Finished: EXECUTING_JOB_STATUSES,
  Errored: EXECUTING_JOB_STATUSES,
  ServerShutdown: EXECUTING_JOB_STATUSES,
  ProgressReported: EXECUTING_JOB_STATUSES,
  RecordsRejected: EXECUTING_JOB_STATUSES,
};

/**
 * Pure: whether a stored commit is one the service could have written on this job in this state,
 * and the job's state after it. Anyone who can publish to the events subjects can put anything
 * there; a commit that fails is quarantined by its reader (never applied, the job goes on).
 */
export function checkCommit(state: JobState, commit: CommitToCheck): CommitCheck {
  const read = readStoredCommit(commit.jobId, commit.events);
  if (!read.ok) return refuse(read.reason);
  const { events } = read;
  let next = state;
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    if (event.version !== next.version + 1) {
      return refuse(
        `event ${index + 1} of ${events.length} has version ${event.version}, but the job's next version is ${next.version + 1}`,
      );
    }
    const transition = transitionProblem(next, event);
    if (transition) return refuse(`event ${index + 1} of ${events.length} (${event.type}) ${transition}`);
    next = evolve(next, event);
  }
  if (commit.version !== next.version) {
    return refuse(`its Job-Version header says ${commit.version ?? 'nothing'}, but its events end at version ${next.version}`);
  }
  return { ok: true, events, state: next };
}

function transitionProblem(state: JobState, event: UnpositionedJobEvent): string | null {
  if (event.type === 'Created') return state.status === null ? null : 'is on a job that exists already';
  if (state.status === null) return 'is on a job that was never created';
  if (event.type === 'MessageLogged') return null;
  if (!ALLOWED_AFTER[event.type].has(state.status)) return `cannot follow the status ${state.status}`;
  if (unclaimedOnly(event) && state.status === 'running' && (state.executor ?? null) !== null) {
    return `cannot follow the status running while executor ${state.executor} holds the job`;
  }
  if ((event.type === 'Started' || event.type === 'Cancelled') && event.data.previousStatus !== state.status) {
    return `names the previous status ${event.data.previousStatus}, but the job was ${state.status}`;
  }
  if (event.type === 'RecordsRejected' && event.data.rejectedTotal !== state.rejected + event.data.records.length) {
    return `says ${event.data.rejectedTotal} rejected in total, but the job had ${state.rejected} plus ${event.data.records.length}`;
  }
  return null;
}

/** A claim takes a free job; a pause or cancel ends a running job at once only when no executor is there to confirm. */
function unclaimedOnly(event: UnpositionedJobEvent): boolean {
  return event.type === 'Claimed' || event.type === 'Paused' || event.type === 'Cancelled';
}

/** A reason is logged, stored and listed in replies: a body made to have a long one is cut short. */
const MAX_REASON_LENGTH = 500;

function refuse(reason: string): CommitCheck {
  return { ok: false, reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason };
}
