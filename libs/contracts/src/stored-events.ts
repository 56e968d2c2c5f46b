import { z } from 'zod';
import { rejectPolicySchema, rejectedRecordSchema } from './commands.js';
import { EVENT_SCHEMA_VERSION, JOB_EVENT_TYPES, type JobEventType } from './events.js';
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
  PauseRequested: z.strictObject({}),
  Paused: z.strictObject({}),
  CancellationRequested: z.strictObject({}),
  Cancelled: z.strictObject({ previousStatus: z.enum(JOB_STATUSES) }),
  Finished: z.strictObject({ processed: count.optional(), total: count.optional() }),
  Errored: z.strictObject({ error: jobError }),
  ServerShutdown: z.strictObject({ reason: z.string().optional() }),
  ProgressReported: z.strictObject({ processed: count, total: count.optional() }),
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
