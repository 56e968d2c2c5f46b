import type { JobStatus } from './statuses.js';

/** Stable error codes of API version 1. Clients branch on these, never on messages. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'JOB_NOT_FOUND',
  'JOB_EXISTS',
  'INVALID_TRANSITION',
  'CONCURRENCY_CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNKNOWN_COMMAND',
  'COMMAND_ID_REUSED',
  /** Another executor holds the job, or none does while it executes: an executor's claim, or its command naming `executor`, is refused. */
  'JOB_CLAIMED',
  /** NATS or JetStream is gone for a moment (no responders, a 503, a closed or reconnecting connection): nothing was stored; retry. */
  'UNAVAILABLE',
  /** A wait ran out: a query's minPosition, or NATS or JetStream slow to answer; retry. */
  'TIMEOUT',
  /** A fault of the service itself, logged; a retry is not expected to help. */
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ValidationIssue {
  path: string;
  message: string;
}

/** An error as a value: a stable code, a message for people, and details by code. */
export type JobError =
  | { code: 'INVALID_TRANSITION'; message: string; status: JobStatus; command: string }
  | { code: 'CONCURRENCY_CONFLICT'; message: string; expectedVersion?: number; actualVersion?: number }
  | { code: 'VALIDATION_FAILED'; message: string; issues?: ValidationIssue[] }
  | { code: 'PAYLOAD_TOO_LARGE'; message: string; size: number; limit: number }
  /** `executor`: the executor that holds the job, or null when none does. */
  | { code: 'JOB_CLAIMED'; message: string; executor: string | null }
  | {
      code: Exclude<ErrorCode, 'INVALID_TRANSITION' | 'CONCURRENCY_CONFLICT' | 'VALIDATION_FAILED' | 'PAYLOAD_TOO_LARGE' | 'JOB_CLAIMED'>;
      message: string;
    };

export interface ErrorReply {
  ok: false;
  error: JobError;
}

export function errorReply(error: JobError): ErrorReply {
  return { ok: false, error };
}

export function isJobError(value: unknown): value is JobError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as JobError).code === 'string' &&
    (ERROR_CODES as readonly string[]).includes((value as JobError).code) &&
    typeof (value as JobError).message === 'string'
  );
}
