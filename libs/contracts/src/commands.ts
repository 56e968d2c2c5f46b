import { z } from 'zod';
import { JOB_KINDS, LOG_LEVELS, type JobStatus } from './statuses.js';

/** A job id is one NATS subject token, so it also names the job's event subject. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const jobIdSchema = z.string().regex(JOB_ID_PATTERN, 'a job id is 1 to 128 letters, digits, "-" or "_"');

/** One of `values`; any other value is refused with the valid ones: `"finishd" is not a status; use one of editing, …`. */
export const oneOf = <T extends string>(values: readonly [T, ...T[]], what: string) =>
  z.enum(values, {
    error: (issue) =>
      issue.code === 'invalid_value' ? `${JSON.stringify(issue.input)} is not ${what}; use one of ${values.join(', ')}` : undefined,
  });

const text = (max: number) => z.string().trim().min(1).max(max);
const count = z.number().int().nonnegative();

/** Fields every command may carry besides its own body. */
const commandMetaShape = {
  /** Idempotency key: a retried command with the same id appends nothing and gets the first reply. */
  commandId: text(200).optional(),
  /** The job version the sender last saw; any other current version is a CONCURRENCY_CONFLICT. */
  expectedVersion: count.optional(),
  /** Who or what sends the command (a user name, a service, an executor). */
  actor: text(200).optional(),
  correlationId: text(200).optional(),
  causationId: text(200).optional(),
};

export const rejectPolicySchema = z.strictObject({
  maxRejects: count.nullable(),
});

const definitionSchema = z.record(z.string(), z.unknown());

const jobRef = { jobId: jobIdSchema, ...commandMetaShape };

/** An executor instance's id is one NATS subject token, so it also names the executor's heartbeat subject. */
export const EXECUTOR_ID_PATTERN = /^[^\s.*>]{1,200}$/;
export const executorIdSchema = z
  .string()
  .regex(EXECUTOR_ID_PATTERN, 'an executor id is 1 to 200 characters without spaces, ".", "*" or ">": one NATS subject token');

/** How long a claim lasts without a heartbeat of its executor, in milliseconds, unless the claim says. */
export const DEFAULT_LEASE_MS = 15_000;
export const MIN_LEASE_MS = 1_000;
export const MAX_LEASE_MS = 600_000;
export const leaseMsSchema = z.number().int().min(MIN_LEASE_MS).max(MAX_LEASE_MS);

/**
 * The `executor` an executor's commands may name: the command is then refused (JOB_CLAIMED) while
 * the job executes under another executor's claim, or under none, so that an executor whose claim
 * ended (its lease expired, the job was restarted) cannot change the new run.
 */
const fencedJobRef = { ...jobRef, executor: executorIdSchema.optional() };

/** The largest checkpoint a progress command carries, as JSON in UTF-8. */
export const MAX_CHECKPOINT_BYTES = 64 * 1024;

const checkpointSchema = z.unknown().superRefine((value, context) => {
  if (value === undefined) return;
  const size = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (size > MAX_CHECKPOINT_BYTES) {
    context.addIssue({
      code: 'custom',
      message: `a checkpoint takes at most ${MAX_CHECKPOINT_BYTES} bytes as JSON, this one ${size}: keep only what a resumed run needs to find its place (a line number, a key, an offset), not the data`,
    });
  }
});

export const rejectedRecordSchema = z.strictObject({
  line: z.number().int().positive(),
  reason: text(2000),
  record: z.unknown().refine((value) => value !== undefined, 'record is required'),
});

/**
 * The most records one `reject` command carries: 1,000 records of a typical size fit the default
 * payload limit (JOBS_MAX_PAYLOAD_BYTES, 256 KiB) with room to spare; an executor with more sends
 * several reject commands.
 */
export const MAX_REJECTS_PER_COMMAND = 1_000;

/** Bodies of `jobs.cmd.<name>` requests, API version 1. Unknown fields are rejected. */
export const commandSchemas = {
  create: z.strictObject({
    ...commandMetaShape,
    jobId: jobIdSchema.optional(),
    label: text(500),
    kind: oneOf(JOB_KINDS, 'a job kind'),
    definition: definitionSchema.optional(),
    rejectPolicy: rejectPolicySchema.optional(),
  }),
  update: z
    .strictObject({
      ...jobRef,
      label: text(500).optional(),
      definition: definitionSchema.optional(),
      rejectPolicy: rejectPolicySchema.optional(),
    })
    .refine((body) => body.label !== undefined || body.definition !== undefined || body.rejectPolicy !== undefined, {
      message: 'update needs at least one of label, definition, rejectPolicy',
    }),
  start: z.strictObject(jobRef),
  pause: z.strictObject(jobRef),
  'mark-paused': z.strictObject(fencedJobRef),
  cancel: z.strictObject(jobRef),
  'mark-cancelled': z.strictObject(fencedJobRef),
  finish: z.strictObject({ ...fencedJobRef, processed: count.optional(), total: count.optional() }),
  fail: z.strictObject({
    ...fencedJobRef,
    error: z.strictObject({ message: text(4000), code: text(200).optional() }),
  }),
  shutdown: z.strictObject({ ...fencedJobRef, reason: text(2000).optional() }),
  /** `checkpoint`: where the run is, for a later run of the job to resume from. */
  progress: z.strictObject({ ...fencedJobRef, processed: count, total: count.optional(), checkpoint: checkpointSchema.optional() }),
  log: z.strictObject({ ...fencedJobRef, level: oneOf(LOG_LEVELS, 'a log level'), message: text(8000) }),
  /** An executor takes a running job: it alone runs it until the run ends or its lease expires. */
  claim: z.strictObject({ ...jobRef, executor: executorIdSchema, leaseMs: leaseMsSchema.optional() }),
  reject: z.strictObject({
    ...fencedJobRef,
    records: z
      .array(rejectedRecordSchema)
      .min(1)
      .max(
        MAX_REJECTS_PER_COMMAND,
        `at most ${MAX_REJECTS_PER_COMMAND} records per reject command: send the others in further reject commands`,
      ),
  }),
} as const;

export type CommandName = keyof typeof commandSchemas;
export const COMMAND_NAMES = Object.keys(commandSchemas) as CommandName[];
export type CommandBody<N extends CommandName = CommandName> = z.infer<(typeof commandSchemas)[N]>;
export type RejectPolicy = z.infer<typeof rejectPolicySchema>;
export type RejectedRecordInput = z.infer<typeof rejectedRecordSchema>;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandSchemas, name);
}

/** What to do with a command whose body is over the payload limit, for the commands whose body grows with the work. */
export const COMMAND_TOO_LARGE_ADVICE: Partial<Record<CommandName, string>> = {
  reject: 'send the records in several reject commands of fewer records',
};

/** Reply to a command that was applied (or was a harmless repeat). */
export interface CommandOkReply {
  ok: true;
  jobId: string;
  /** The job's version after the command: the number of its events. */
  version: number;
  /** Global position of the command's events (or of the job's last events, for a no-op). */
  position: number;
  status: JobStatus;
}
