import type { ErrorCode, JobError } from '#contracts';

/**
 * An error reply of the service, thrown: `code` is one of the API's stable codes, `message` says
 * what to do next, and `error` is the reply's error with its extra fields, typed by code
 * (`if (e.error.code === 'INVALID_TRANSITION') e.error.status`).
 *
 * `TIMEOUT` and `UNAVAILABLE` are also what a call throws once its retries ran out on NATS itself
 * (no reply in time, no responders, a lost connection): `cause` is then the NATS error.
 */
export class JobsError extends Error {
  override name = 'JobsError';
  readonly code: ErrorCode;
  readonly error: JobError;

  constructor(error: JobError, options?: { cause?: unknown }) {
    super(error.message, options);
    this.code = error.code;
    this.error = error;
  }
}

/** Whether `value` is a JobsError, with `code` when given: `if (isJobsError(e, 'JOB_NOT_FOUND')) …`. */
export function isJobsError<C extends ErrorCode>(
  value: unknown,
  code?: C,
): value is JobsError & { code: C; error: Extract<JobError, { code: C }> } {
  return value instanceof JobsError && (code === undefined || value.code === code);
}
