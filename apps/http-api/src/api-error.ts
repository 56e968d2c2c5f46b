import type { ErrorCode, JobError } from '#contracts';

/** The HTTP side's own refusals, beside the NATS API's codes: who is asking, and whether they may. */
export type HttpOnlyErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND';
export type ApiErrorCode = ErrorCode | HttpOnlyErrorCode;

/** An error body as the API sends it: `{ok: false, error}`, the NATS API's error with its extra fields. */
export type ApiErrorBody = JobError | { code: HttpOnlyErrorCode; message: string };

const STATUS_BY_CODE: Record<ApiErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  JOB_NOT_FOUND: 404,
  // A route or command name that does not exist is the client's mistake, not the server's.
  NOT_FOUND: 404,
  UNKNOWN_COMMAND: 404,
  JOB_EXISTS: 409,
  INVALID_TRANSITION: 409,
  CONCURRENCY_CONFLICT: 409,
  COMMAND_ID_REUSED: 409,
  JOB_CLAIMED: 409,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
};

/** The HTTP status of an error code; a code this side does not know is a fault: 500. */
export function httpStatusFor(code: string): number {
  return Object.hasOwn(STATUS_BY_CODE, code) ? STATUS_BY_CODE[code as ApiErrorCode] : 500;
}

/** A refusal of the HTTP side itself, thrown from guards and controllers and answered by the exception filter. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(readonly body: ApiErrorBody) {
    super(body.message);
  }

  get status(): number {
    return httpStatusFor(this.body.code);
  }

  static validation(path: string, message: string): ApiError {
    return new ApiError({ code: 'VALIDATION_FAILED', message: `${path}: ${message}`, issues: [{ path, message }] });
  }
}
