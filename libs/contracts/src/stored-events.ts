import { z } from 'zod';
import { EXECUTOR_ID_PATTERN, JOB_ID_PATTERN, leaseMsSchema, rejectPolicySchema, rejectedRecordSchema } from './commands.js';
import { EVENT_SCHEMA_VERSION, isJobEventType, JOB_EVENT_TYPES, type JobEventType, type UnpositionedJobEvent } from './events.js';
import { JOB_KINDS, JOB_STATUSES, LOG_LEVELS } from './statuses.js';

const count = z.number().int().nonnegative();
const definition = z.record(z.string(), z.unknown());
const jobError = z.strictObject({ message: z.string(), code: z.string().optional() });

/** The `data` of each event type, as the service writes it: what a reader accepts from the stream. */
export const eventDataSchemas = {
  Created: z.strictObject({ label: z.string().min(1), kind: z.enum(JOB_KINDS), definition, rejectPolicy: rejectPolicySchema }),
  DefinitionUpdated: z.strictObject({
    label: z.string().min(1).optional(),
    definition: definition.optional(),
    rejectPolicy: rejectPolicySchema.optional(),
  }),
  Started: z.strictObject({ previousStatus: z.enum(JOB_STATUSES) }),
  Claimed: z.strictObject({ executor: z.string().regex(EXECUTOR_ID_PATTERN), leaseMs: leaseMsSchema }),
  PauseRequested: z.strictObject({}),
  Paused: z.strictObject({}),
  CancellationRequested: z.strictObject({}),
  Cancelled: z.strictObject({ previousStatus: z.enum(JOB_STATUSES) }),
  Finished: z.strictObject({ processed: count.optional(), total: count.optional() }),
  Errored: z.strictObject({ error: jobError }),
  ServerShutdown: z.strictObject({ reason: z.string().optional() }),
  ProgressReported: z.strictObject({ processed: count, total: count.optional(), checkpoint: z.unknown().optional() }),
  MessageLogged: z.strictObject({ level: z.enum(LOG_LEVELS), message: z.string() }),
  RecordsRejected: z.strictObject({ records: z.array(rejectedRecordSchema).min(1), rejectedTotal: count }),
} satisfies Record<JobEventType, z.ZodType>;

/** Every stored event: its metadata, a known type and schema version; its `data` is checked by type. */
export const storedEventSchema = z.strictObject({
  eventId: z.string().min(1),
  type: z.enum(JOB_EVENT_TYPES as [JobEventType, ...JobEventType[]]),
  schemaVersion: z.number().int().min(1).max(EVENT_SCHEMA_VERSION),
  jobId: z.string().min(1),
  version: z.number().int().positive(),
  at: z.iso.datetime({ offset: true }),
  commandId: z.string().min(1),
  commandDigest: z.string().min(1).optional(),
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
  actor: z.string().min(1),
  actorAuthenticated: z.boolean().optional(),
  data: z.unknown(),
});

const STORED_EVENT_KEYS = new Set(Object.keys(storedEventSchema.shape));
const timestamp = storedEventSchema.shape.at;

/** The form the service writes its times in (`toISOString`), told without the schema's regular expression. */
const isServiceTime = (value: string) => {
  if (value.length !== 24 || !value.endsWith('Z')) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
};

const nonEmpty = (value: unknown) => typeof value === 'string' && value.length > 0;
const wholeIn = (value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/**
 * Whether a parsed value is a stored event's metadata, as `storedEventSchema` says, without building
 * the copy the schema's parse makes: a reader checks every event of a rebuild. It only ever accepts
 * what the schema accepts; what it refuses goes to the schema, which also tells why.
 */
export function isStoredEvent(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const event = value as Record<string, unknown>;
  for (const key in event) if (!STORED_EVENT_KEYS.has(key)) return false;
  return (
    nonEmpty(event.eventId) &&
    isJobEventType(event.type) &&
    wholeIn(event.schemaVersion, 1, EVENT_SCHEMA_VERSION) &&
    nonEmpty(event.jobId) &&
    wholeIn(event.version, 1) &&
    typeof event.at === 'string' &&
    (isServiceTime(event.at) || timestamp.safeParse(event.at).success) &&
    nonEmpty(event.commandId) &&
    (!('commandDigest' in event) || nonEmpty(event.commandDigest)) &&
    nonEmpty(event.correlationId) &&
    nonEmpty(event.causationId) &&
    nonEmpty(event.actor) &&
    (!('actorAuthenticated' in event) || typeof event.actorAuthenticated === 'boolean') &&
    'data' in event
  );
}

const LOG_LEVEL_SET = new Set<unknown>(LOG_LEVELS);
const isCount = (value: unknown) => wholeIn(value, 0);
const hasOnly = (value: Record<string, unknown>, keys: readonly string[]) => {
  for (const key in value) if (!keys.includes(key)) return false;
  return true;
};
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
/** As `text(2000)` of the commands: not empty once trimmed, at most 2,000 characters then. */
const isReason = (value: unknown) => {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= 2000;
};
const isRejectedRecord = (value: unknown) =>
  isPlainObject(value) &&
  hasOnly(value, ['line', 'reason', 'record']) &&
  wholeIn(value.line, 1) &&
  isReason(value.reason) &&
  value.record !== undefined;

/**
 * Whether an event's `data` is as `eventDataSchemas` says, for the types a long history holds most
 * of (log lines, progress, rejects), without the schema's copy. Like `isStoredEvent`, it only ever
 * accepts what the schema accepts: what it refuses, or a type it does not know, goes to the schema.
 */
export function isEventData(type: JobEventType, data: unknown): boolean {
  if (!isPlainObject(data)) return false;
  switch (type) {
    case 'MessageLogged':
      return hasOnly(data, ['level', 'message']) && LOG_LEVEL_SET.has(data.level) && typeof data.message === 'string';
    case 'ProgressReported':
      // Any checkpoint is one the schema takes.
      return hasOnly(data, ['processed', 'total', 'checkpoint']) && isCount(data.processed) && (!('total' in data) || isCount(data.total));
    case 'RecordsRejected':
      return (
        hasOnly(data, ['records', 'rejectedTotal']) &&
        isCount(data.rejectedTotal) &&
        Array.isArray(data.records) &&
        data.records.length > 0 &&
        data.records.every(isRejectedRecord)
      );
    default:
      return false;
  }
}

export type StoredCommitReading = { ok: true; events: UnpositionedJobEvent[] } | { ok: false; reason: string };

/**
 * The events of a stored commit's body, each of a known type and schema version with well-formed
 * data, all of the job its subject names; or why not. It knows nothing of the job's history: the
 * versions and transitions are the domain's to check (`checkCommit`).
 */
export function readStoredCommit(jobId: string, body: string): StoredCommitReading {
  // The events subjects take more tokens than one (`<prefix>.events.a.b`): no job lives there.
  if (!JOB_ID_PATTERN.test(jobId)) return { ok: false, reason: `its subject names no job: "${jobId}" is not a job id` };
  let events: unknown;
  try {
    events = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'its body is not JSON' };
  }
  if (!Array.isArray(events) || events.length === 0) return { ok: false, reason: 'its body is not a non-empty array of events' };
  for (let index = 0; index < events.length; index++) {
    // Worded only for a refusal: a rebuild reads every event.
    const what = () => `event ${index + 1} of ${events.length}`;
    const raw: unknown = events[index];
    if (!isStoredEvent(raw)) {
      const meta = storedEventSchema.safeParse(raw);
      if (!meta.success) return { ok: false, reason: `${what()} is not a known event: ${describeIssues(meta.error.issues)}` };
    }
    const event = raw as UnpositionedJobEvent;
    if (!isEventData(event.type, event.data)) {
      const data = eventDataSchemas[event.type].safeParse(event.data);
      if (!data.success) return { ok: false, reason: `${what()} (${event.type}) has malformed data: ${describeIssues(data.error.issues)}` };
    }
    if (event.jobId !== jobId)
      return { ok: false, reason: `${what()} names job ${event.jobId}, but the commit is on job ${jobId}'s subject` };
  }
  return { ok: true, events: events as UnpositionedJobEvent[] };
}

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || '(event)'}: ${issue.message}`).join('; ');
}
