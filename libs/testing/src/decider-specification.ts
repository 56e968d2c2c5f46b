import { expect } from 'vitest';
import { EVENT_SCHEMA_VERSION, type JobError, type JobEventData, type JobEventType, type UnpositionedJobEvent } from '#contracts';
import type { CommandContext, Decision, JobCommand, JobState } from '#domain';

/** The job a specification is about unless it names another. */
export const SPEC_JOB_ID = 'job-1';

const T0 = Date.parse('2024-03-01T09:00:00.000Z');

/**
 * n seconds after T0: the time of a given history's event at version n, and of a command decided on
 * a job at version n - 1. Every time in a specification is thus distinct and easy to name.
 */
export const timeOf = (n: number): string => new Date(T0 + n * 1000).toISOString();

/**
 * An event by its type and data. Any other field may be named too; those left out are filled in:
 * for a given event from its version, for a decided one from the command's context.
 */
export type EventDraft = {
  [K in JobEventType]: { type: K; data: JobEventData[K] } & Partial<Omit<UnpositionedJobEvent<K>, 'type' | 'data'>>;
}[JobEventType];

/** A refusal as expected: its code and fields; any human message unless one is named. */
export type ExpectedError<E extends JobError = JobError> = E extends JobError ? Omit<E, 'message'> & { message?: string } : never;

/** The three parts of the domain a specification drives, as the command handler does. */
export interface JobDecider {
  decide(command: JobCommand, context: CommandContext, state: JobState): Decision;
  evolve(state: JobState, event: UnpositionedJobEvent): JobState;
  initialState(jobId: string): JobState;
}

/** A job after its given events, ready to decide one command. */
export interface Given {
  /** The given events with every field filled in, as a store would hand them to a replay. */
  events: UnpositionedJobEvent[];
  state: JobState;
  /** Decides `command` on the state; the context defaults to fresh ids, actor alice, at timeOf(version + 1). */
  when(command: JobCommand, context?: Partial<CommandContext>): When;
}

/** One command decided: what must come of it. */
export interface When {
  decision: Decision;
  /** Accepted, with exactly these events: each compared whole, the fields a draft leaves out taken from the command's context. */
  then(expected: readonly EventDraft[]): Accepted;
  /** Accepted with no event: the harmless repeat of an intent the job already follows. */
  thenNothing(): void;
  /** Refused with this error, as a value. */
  thenFails(expected: ExpectedError): void;
}

export interface Accepted {
  events: UnpositionedJobEvent[];
  /** The job after the decided events. */
  state: JobState;
}

/**
 * Given / when / then for the job decider, after Emmett's `DeciderSpecification`:
 *
 *   const spec = DeciderSpecification.for({ decide, evolve, initialState: initialJobState });
 *   spec().given([{ type: 'Created', data }]).when(command).then([{ type: 'Started', data: { previousStatus: 'editing' } }]);
 *
 * Our decider returns a refusal as a value, so a refusal is `thenFails(error)`, not a thrown error.
 */
export const DeciderSpecification = {
  for(decider: JobDecider): (jobId?: string) => { given(events: readonly EventDraft[]): Given } {
    return (jobId = SPEC_JOB_ID) => ({ given: (drafts) => given(decider, jobId, drafts) });
  },
};

function given(decider: JobDecider, jobId: string, drafts: readonly EventDraft[]): Given {
  const events: UnpositionedJobEvent[] = [];
  for (const draft of drafts) events.push(givenEvent(jobId, draft, (events.at(-1)?.version ?? 0) + 1));
  const state = events.reduce((current, event) => decider.evolve(current, event), decider.initialState(jobId));
  return {
    events,
    state,
    when: (command, overrides = {}) => {
      const n = state.version + 1;
      const context: CommandContext = {
        jobId,
        commandId: `cmd-${n}`,
        actor: 'alice',
        actorAuthenticated: false,
        at: timeOf(n),
        correlationId: `corr-${n}`,
        causationId: `cause-${n}`,
        ...overrides,
      };
      return when(decider, state, command, context);
    },
  };
}

function when(decider: JobDecider, state: JobState, command: JobCommand, context: CommandContext): When {
  const decision = decider.decide(command, context, state);
  return {
    decision,
    // biome-ignore lint/suspicious/noThenProperty: given / when / then is the vocabulary of the specification; a When is never awaited.
    then(expected) {
      const events = expected.map((draft, index) => decidedEvent(context, draft, state.version + index + 1));
      // Compared as a whole decision, so that a refusal shows its code and message in the diff.
      expect(decision).toStrictEqual({ ok: true, events });
      const decided = (decision as Extract<Decision, { ok: true }>).events;
      return { events: decided, state: decided.reduce((current, event) => decider.evolve(current, event), state) };
    },
    thenNothing() {
      expect(decision).toStrictEqual({ ok: true, events: [] });
    },
    thenFails(error) {
      expect(decision).toStrictEqual({ ok: false, error: { message: expect.stringMatching(/\S/), ...error } });
    },
  };
}

function givenEvent(jobId: string, draft: EventDraft, nextVersion: number): UnpositionedJobEvent {
  const version = draft.version ?? nextVersion;
  return {
    eventId: `${jobId}:${version}`,
    schemaVersion: EVENT_SCHEMA_VERSION,
    jobId,
    version,
    at: timeOf(version),
    commandId: `cmd-${version}`,
    correlationId: `corr-${version}`,
    causationId: `cause-${version}`,
    actor: 'alice',
    ...draft,
  } as UnpositionedJobEvent;
}

/** An event as the decider must make it from the command's context. */
function decidedEvent(context: CommandContext, draft: EventDraft, version: number): UnpositionedJobEvent {
  return {
    eventId: `${context.jobId}:${version}`,
    schemaVersion: EVENT_SCHEMA_VERSION,
    jobId: context.jobId,
    version,
    at: context.at,
    commandId: context.commandId,
    ...(context.commandDigest !== undefined && { commandDigest: context.commandDigest }),
    correlationId: context.correlationId,
    causationId: context.causationId,
    actor: context.actor,
    actorAuthenticated: context.actorAuthenticated,
    ...draft,
  } as UnpositionedJobEvent;
}
