/** Stable codes of the errors a worker's job fails with; the message says what to change. */
export const WORKER_ERROR_CODES = [
  'DEFINITION_INVALID',
  'FILE_NOT_FOUND',
  'PATH_OUTSIDE_FILES_DIR',
  'TABLE_NOT_FOUND',
  'COLUMN_NOT_FOUND',
  'QUERY_NOT_READ_ONLY',
  'DATABASE_ERROR',
] as const;

export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

/** A job that cannot run as defined: the executor fails the job with this message and code. */
export class WorkerError extends Error {
  override name = 'WorkerError';

  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
