import { z } from 'zod';
import {
  ERROR_CODES,
  JOB_KINDS,
  JOB_STATUSES,
  LOG_LEVELS,
  rejectPolicySchema,
  storedEventSchema,
  type CommandOkReply,
  type GetReply,
  type HistoryReply,
  type JobSummary,
  type ListReply,
  type LogEntry,
  type LogsReply,
  type RejectEntry,
  type RejectsReply,
} from '#contracts';
import { RIGHTS } from '#operator-access';

/*
 * The replies' shapes for the OpenAPI document. #contracts types them as TypeScript interfaces, not
 * zod schemas; each schema here is checked against its interface (`Describes`), so that a field
 * added there and not here fails the type check.
 */

/** Compiles only when `S` parses to exactly `T`. */
type Describes<S extends z.ZodType, T> = [z.output<S>] extends [T] ? ([T] extends [z.output<S>] ? S : never) : never;
const describes =
  <T>() =>
  <S extends z.ZodType>(schema: Describes<S, T>) =>
    schema;

const time = z.string().describe('ISO-8601 time, UTC');
const jobError = z.object({ message: z.string(), code: z.string().optional() });

export const jobSummarySchema = describes<JobSummary>()(
  z.object({
    jobId: z.string(),
    label: z.string(),
    kind: z.enum(JOB_KINDS),
    status: z.enum(JOB_STATUSES),
    statusLabel: z.string(),
    createdAt: time,
    createdBy: z.string(),
    startedAt: time.nullable(),
    endedAt: time.nullable(),
    updatedAt: time,
    processed: z.number().int(),
    total: z.number().int().nullable(),
    rejected: z.number().int(),
    progress: z.number().nullable(),
    warning: z.boolean(),
    lastError: jobError.nullable(),
    executor: z.string().nullable(),
    leaseMs: z.number().int().nullable(),
    version: z.number().int(),
  }),
);

const logEntrySchema = describes<LogEntry>()(
  z.object({ id: z.number().int(), at: time, level: z.enum(LOG_LEVELS), message: z.string(), eventType: z.string(), eventId: z.string() }),
);

const rejectEntrySchema = describes<RejectEntry>()(z.object({ line: z.number().int(), reason: z.string(), record: z.unknown(), at: time }));

const ok = z.literal(true);

export const commandReplySchema = describes<CommandOkReply>()(
  z.object({ ok, jobId: z.string(), version: z.number().int(), position: z.number().int(), status: z.enum(JOB_STATUSES) }),
);
export const listReplySchema = describes<ListReply>()(
  z.object({ ok, items: z.array(jobSummarySchema), total: z.number().int(), nextCursor: z.string().nullable() }),
);
export const getReplySchema = describes<GetReply>()(z.object({ ok, job: jobSummarySchema }));
export const logsReplySchema = describes<LogsReply>()(
  z.object({ ok, items: z.array(logEntrySchema), nextCursor: z.number().int().nullable(), olderCursor: z.number().int().nullable() }),
);
export const rejectsReplySchema = describes<RejectsReply>()(
  z.object({ ok, items: z.array(rejectEntrySchema), total: z.number().int(), nextCursor: z.string().nullable() }),
);

/** History's events and state are the stored events' and the job's own shapes, with their position and definition. */
export const historyReplySchema = z.object({
  ok,
  events: z.array(storedEventSchema.extend({ position: z.number().int() })),
  state: jobSummarySchema
    .extend({ definition: z.record(z.string(), z.unknown()), rejectPolicy: rejectPolicySchema, checkpoint: z.unknown() })
    .nullable(),
  nextCursor: z.string().nullable(),
  latestCursor: z.string().nullable(),
  quarantined: z.array(z.object({ position: z.number().int(), reason: z.string() })),
}) satisfies z.ZodType<Pick<HistoryReply, 'ok' | 'nextCursor' | 'latestCursor' | 'quarantined'>>;

export const statusCountsReplySchema = z.object({ ok, counts: z.record(z.enum(JOB_STATUSES), z.number().int()) });

export const sessionReplySchema = z.object({ ok, user: z.object({ name: z.string(), rights: z.array(z.enum(RIGHTS)) }) });

export const okReplySchema = z.object({ ok });

export const errorReplySchema = z.object({
  ok: z.literal(false),
  error: z
    .object({
      code: z.enum([...ERROR_CODES, 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND']),
      message: z.string().describe('what went wrong and what to do next'),
    })
    .catchall(z.unknown())
    .describe('the extra fields of each code are those of the NATS API (issues, status, expectedVersion, ...)'),
});

/** The data of one `job` Server-Sent Event. */
export const jobChangeSchema = z.object({
  jobId: z.string(),
  position: z.number().int(),
  types: z.array(z.string()),
  job: jobSummarySchema,
});
