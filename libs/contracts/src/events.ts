import type { RejectPolicy, RejectedRecordInput } from './commands.js';
import type { JobKind, JobStatus, LogLevel } from './statuses.js';

export const EVENT_SCHEMA_VERSION = 1;

/** What each event type carries, by type. */
export interface JobEventData {
  Created: { label: string; kind: JobKind; definition: Record<string, unknown>; rejectPolicy: RejectPolicy };
  DefinitionUpdated: { label?: string; definition?: Record<string, unknown>; rejectPolicy?: RejectPolicy };
  Started: { previousStatus: JobStatus };
  /** An executor took the running job, for as long as it renews its lease of `leaseMs` (README, "Executors"). */
  Claimed: { executor: string; leaseMs: number };
  PauseRequested: Record<string, never>;
  Paused: Record<string, never>;
  CancellationRequested: Record<string, never>;
  Cancelled: { previousStatus: JobStatus };
  Finished: { processed?: number; total?: number };
  Errored: { error: { message: string; code?: string } };
  ServerShutdown: { reason?: string };
  /** `checkpoint`: where the run is, kept for a later run to resume from. */
  ProgressReported: { processed: number; total?: number; checkpoint?: unknown };
  MessageLogged: { level: LogLevel; message: string };
  /** `rejectedTotal` is the job's rejected count after these records. */
  RecordsRejected: { records: RejectedRecordInput[]; rejectedTotal: number };
}

export type JobEventType = keyof JobEventData;

export const JOB_EVENT_TYPES: readonly JobEventType[] = [
  'Created',
  'DefinitionUpdated',
  'Started',
  'Claimed',
  'PauseRequested',
  'Paused',
  'CancellationRequested',
  'Cancelled',
  'Finished',
  'Errored',
  'ServerShutdown',
  'ProgressReported',
  'MessageLogged',
  'RecordsRejected',
];

const EVENT_TYPES = new Set<unknown>(JOB_EVENT_TYPES);

/** Whether `value` names one of the job's event types. */
export function isJobEventType(value: unknown): value is JobEventType {
  return EVENT_TYPES.has(value);
}

/** Error code of the `Errored` event written when rejects pass a job's `maxRejects`. */
export const REJECT_LIMIT_ERROR_CODE = 'REJECT_LIMIT_EXCEEDED';

/** An event as decided, before the store gives it a global position. */
export type UnpositionedJobEvent<T extends JobEventType = JobEventType> = {
  [K in T]: {
    /** `<jobId>:<version>`: unique, and the same on every replay. */
    eventId: string;
    type: K;
    schemaVersion: number;
    jobId: string;
    /** Version of the job after this event: 1 for Created, then +1 per event. */
    version: number;
    /** ISO-8601 time the command was decided. */
    at: string;
    commandId: string;
    /**
     * Fingerprint of the command that produced the event (its name and body): a retry with the same
     * commandId must carry the same command. Absent on events stored before it was recorded.
     */
    commandDigest?: string;
    correlationId: string;
    causationId: string;
    /** Who or what caused the event. */
    actor: string;
    /**
     * Whether `actor` is who sent the command, as the NATS server authenticated it: the command came
     * on `<prefix>.cmd.<name>.as.<actor>` to a service trusting those subjects (JOBS_TRUST_ACTOR_SUBJECTS).
     * False when the actor came from the body; absent on events stored before it was recorded: not authenticated.
     */
    actorAuthenticated?: boolean;
    data: JobEventData[K];
  };
}[T];

/** An event as stored: `position` is the global position of the commit that holds it. */
export type JobEvent<T extends JobEventType = JobEventType> = UnpositionedJobEvent<T> & { position: number };

/** Events one command produced, stored together at one global position. */
export interface JobEventCommit {
  position: number;
  jobId: string;
  events: JobEvent[];
}

/**
 * A commit as the event store hands it over, before anything in it is trusted (`checkCommit` in
 * #domain tells whether it is one the service could have written). Undecoded, it crosses to another
 * thread (a rebuild's worker) as plain values rather than a copy of every object.
 */
export interface EncodedJobEventCommit {
  position: number;
  /** The job its subject names (not its body's): the only job it may change. */
  jobId: string;
  /** The version its `Job-Version` header names; null when it has none or not a number. */
  version: number | null;
  /** Its body as stored: meant to be a JSON array of the commit's events, without their position. */
  events: string;
}
