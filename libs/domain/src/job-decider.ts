import {
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_REJECTS,
  EVENT_SCHEMA_VERSION,
  EXECUTING_JOB_STATUSES,
  JOB_STATUS_LABELS,
  REJECT_LIMIT_ERROR_CODE,
  type CommandBody,
  type CommandName,
  type JobError,
  type JobEventData,
  type JobEventType,
  type JobStatus,
  type UnpositionedJobEvent,
} from '#contracts';
import type { JobState } from './job-state.js';

/** A validated command on one job. */
export type JobCommand = { [N in CommandName]: { name: N; body: CommandBody<N> } }[CommandName];

/** Who sent a command, when, and why: copied onto every event it produces. */
export interface CommandContext {
  jobId: string;
  commandId: string;
  /** Fingerprint of the command (its name and body), recorded so that a reused commandId is recognised. */
  commandDigest?: string;
  actor: string;
  /** Whether the NATS server vouched for `actor`: the transport says, the decider only records it. */
  actorAuthenticated: boolean;
  /** ISO-8601 time the command is decided. */
  at: string;
  correlationId: string;
  causationId: string;
  expectedVersion?: number;
}

export type Decision = { ok: true; events: UnpositionedJobEvent[] } | { ok: false; error: JobError };

type EventDraft = { [K in JobEventType]: { type: K; data: JobEventData[K] } }[JobEventType];

const ACCEPTED_NO_EVENTS: Decision = { ok: true, events: [] };

/** Pure: what a command does to a job, as events, or why it cannot. */
export function decide(command: JobCommand, context: CommandContext, state: JobState): Decision {
  if (context.expectedVersion !== undefined && context.expectedVersion !== state.version) {
    return fail({
      code: 'CONCURRENCY_CONFLICT',
      message: `job ${context.jobId} is at version ${state.version}, not the expected ${context.expectedVersion}`,
      expectedVersion: context.expectedVersion,
      actualVersion: state.version,
    });
  }
  if (command.name === 'create') {
    if (state.status !== null) {
      return fail({ code: 'JOB_EXISTS', message: `job ${context.jobId} already exists` });
    }
    const { label, kind, definition, rejectPolicy } = command.body;
    return emit(context, state, [
      {
        type: 'Created',
        data: {
          label,
          kind,
          definition: definition ?? {},
          rejectPolicy: rejectPolicy ?? { maxRejects: DEFAULT_MAX_REJECTS },
        },
      },
    ]);
  }
  const status = state.status;
  if (status === null) {
    return fail({ code: 'JOB_NOT_FOUND', message: `job ${context.jobId} does not exist` });
  }
  const claimed = claimedElsewhere(command, context.jobId, state, status);
  if (claimed) return fail(claimed);
  const drafts = draftEvents(command, state, status);
  if (drafts === 'no-op') return ACCEPTED_NO_EVENTS;
  if (drafts === 'invalid') return invalidTransition(command.name, context.jobId, status);
  return emit(context, state, drafts);
}

/**
 * Fencing: an executor's claim, or its command naming itself as `executor`, while the job executes
 * under another executor's claim or under none (the run it worked on ended: its lease expired, the
 * job was restarted). Outside an executing status the transition table answers as for anyone.
 */
function claimedElsewhere(
  command: Exclude<JobCommand, { name: 'create' }>,
  jobId: string,
  state: JobState,
  status: JobStatus,
): JobError | null {
  const executor = 'executor' in command.body ? command.body.executor : undefined;
  if (executor === undefined || state.executor === executor) return null;
  if (command.name === 'claim') {
    if (status !== 'running' || state.executor === null) return null;
    return {
      code: 'JOB_CLAIMED',
      message: `job ${jobId} is claimed by executor ${state.executor}, not ${executor}: leave it to that executor and claim another job`,
      executor: state.executor,
    };
  }
  if (!EXECUTING_JOB_STATUSES.has(status)) return null;
  return {
    code: 'JOB_CLAIMED',
    message:
      state.executor === null
        ? `job ${jobId} is not claimed by executor ${executor} but by none: the run it worked on ended (its lease expired, or the job was restarted); stop working on it, and claim it again to run it`
        : `job ${jobId} is claimed by executor ${state.executor}, not ${executor}: the run ${executor} worked on ended (its lease expired, or the job was restarted); stop working on it`,
    executor: state.executor,
  };
}

/**
 * The transition table of the spec. 'no-op' is a repeat of the intent the job already follows;
 * 'invalid' is any other command the status does not take.
 */
function draftEvents(
  command: Exclude<JobCommand, { name: 'create' }>,
  state: JobState,
  status: JobStatus,
): EventDraft[] | 'no-op' | 'invalid' {
  const executing = EXECUTING_JOB_STATUSES.has(status);
  switch (command.name) {
    case 'update': {
      if (status !== 'editing') return 'invalid';
      const { label, definition, rejectPolicy } = command.body;
      return [{ type: 'DefinitionUpdated', data: stripUndefined({ label, definition, rejectPolicy }) }];
    }
    case 'start':
      if (status === 'running') return 'no-op';
      if (status === 'editing' || status === 'paused' || status === 'server_shutdown') {
        return [{ type: 'Started', data: { previousStatus: status } }];
      }
      return 'invalid';
    case 'claim':
      // Claimed elsewhere was refused above: the job is free or this executor's already.
      if (status !== 'running') return 'invalid';
      if (state.executor !== null) return 'no-op';
      return [{ type: 'Claimed', data: { executor: command.body.executor, leaseMs: command.body.leaseMs ?? DEFAULT_LEASE_MS } }];
    case 'pause':
      if (status === 'pausing' || status === 'paused') return 'no-op';
      if (status !== 'running') return 'invalid';
      // No executor runs an unclaimed job: nobody is there to confirm, so it is paused at once.
      return state.executor === null ? [{ type: 'Paused', data: {} }] : [{ type: 'PauseRequested', data: {} }];
    case 'mark-paused':
      if (status === 'paused') return 'no-op';
      return status === 'pausing' ? [{ type: 'Paused', data: {} }] : 'invalid';
    case 'cancel':
      if (status === 'cancelling' || status === 'cancelled') return 'no-op';
      // Nothing is executing: the job is cancelled at once.
      if (status === 'running' && state.executor === null) return [{ type: 'Cancelled', data: { previousStatus: status } }];
      if (status === 'running' || status === 'pausing') return [{ type: 'CancellationRequested', data: {} }];
      if (status === 'editing' || status === 'paused' || status === 'server_shutdown') {
        return [{ type: 'Cancelled', data: { previousStatus: status } }];
      }
      return 'invalid';
    case 'mark-cancelled':
      if (status === 'cancelled') return 'no-op';
      return status === 'cancelling' ? [{ type: 'Cancelled', data: { previousStatus: status } }] : 'invalid';
    case 'finish':
      if (status === 'finished') return 'no-op';
      if (!executing) return 'invalid';
      return [{ type: 'Finished', data: stripUndefined({ processed: command.body.processed, total: command.body.total }) }];
    case 'fail':
      if (status === 'finished_with_error') return 'no-op';
      if (!executing) return 'invalid';
      return [{ type: 'Errored', data: { error: stripUndefined(command.body.error) } }];
    case 'shutdown':
      if (status === 'server_shutdown') return 'no-op';
      if (!executing) return 'invalid';
      return [{ type: 'ServerShutdown', data: stripUndefined({ reason: command.body.reason }) }];
    case 'progress':
      if (!executing) return 'invalid';
      return [
        {
          type: 'ProgressReported',
          data: stripUndefined({ processed: command.body.processed, total: command.body.total, checkpoint: command.body.checkpoint }),
        },
      ];
    case 'log':
      // A log line is welcome at any time once the job exists, also after its end.
      return [{ type: 'MessageLogged', data: { level: command.body.level, message: command.body.message } }];
    case 'reject':
      if (!executing) return 'invalid';
      return rejectEvents(command.body.records, state);
  }
}

/** Rejected records, and the end of the job when they pass its `maxRejects`. */
function rejectEvents(records: CommandBody<'reject'>['records'], state: JobState): EventDraft[] {
  const rejectedTotal = state.rejected + records.length;
  const drafts: EventDraft[] = [{ type: 'RecordsRejected', data: { records, rejectedTotal } }];
  const { maxRejects } = state.rejectPolicy;
  if (maxRejects !== null && rejectedTotal > maxRejects) {
    drafts.push({
      type: 'Errored',
      data: {
        error: {
          code: REJECT_LIMIT_ERROR_CODE,
          message: `${rejectedTotal} records rejected, more than the job's limit of ${maxRejects}: the job was stopped`,
        },
      },
    });
  }
  return drafts;
}

function emit(context: CommandContext, state: JobState, drafts: EventDraft[]): Decision {
  const events = drafts.map((draft, index) => {
    const version = state.version + index + 1;
    const event = {
      eventId: `${context.jobId}:${version}`,
      type: draft.type,
      schemaVersion: EVENT_SCHEMA_VERSION,
      jobId: context.jobId,
      version,
      at: context.at,
      commandId: context.commandId,
      correlationId: context.correlationId,
      causationId: context.causationId,
      actor: context.actor,
      actorAuthenticated: context.actorAuthenticated,
      data: draft.data,
    } as UnpositionedJobEvent;
    if (context.commandDigest !== undefined) event.commandDigest = context.commandDigest;
    return event;
  });
  return { ok: true, events };
}

function invalidTransition(command: CommandName, jobId: string, status: JobStatus): Decision {
  return fail({
    code: 'INVALID_TRANSITION',
    message: `cannot ${command} job ${jobId}: its status is ${JOB_STATUS_LABELS[status]} (${status})`,
    status,
    command,
  });
}

function fail(error: JobError): Decision {
  return { ok: false, error };
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
