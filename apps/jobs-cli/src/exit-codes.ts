import { isJobsError, transientNatsFailure } from '#client';
import type { JobStatus } from '#contracts';

/** What `jobs` exits with; the README's CLI section lists them. */
export const EXIT = {
  /** Done; a followed job finished. */
  ok: 0,
  /** A followed job ended with an error or was cancelled; the service refused a command; NATS or the service cannot be reached. */
  failed: 1,
  /** The command line is wrong: an unknown command or option, a missing or malformed value. */
  usage: 2,
  /** Ctrl-C while following a job: the job goes on. */
  interrupted: 130,
} as const;

/** A mistake in the command line, said in plain words: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** How `jobs` exits after following a job to `status`. */
export function exitCodeForStatus(status: JobStatus): number {
  return status === 'finished' ? EXIT.ok : EXIT.failed;
}

/** Where the CLI was talking to, to say what could not be reached. */
export interface Target {
  servers: string;
  subjectPrefix: string;
}

/** The message and exit code for a failure: a service error by its code, NATS unreachable, a usage mistake. */
export function describeFailure(error: unknown, target: Target): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT.usage };
  if (isJobsError(error)) {
    if (error.code === 'UNAVAILABLE' && error.cause !== undefined)
      return {
        message: `no jobs service answers on NATS at ${target.servers} (subjects ${target.subjectPrefix}.*): is the service running?`,
        exitCode: EXIT.failed,
      };
    if (error.code === 'TIMEOUT' && error.cause !== undefined)
      return { message: `the jobs service at ${target.servers} did not answer in time: try again`, exitCode: EXIT.failed };
    // A mistyped filter or value the service refused is the command line's fault.
    return { message: `${error.code}: ${error.message}`, exitCode: error.code === 'VALIDATION_FAILED' ? EXIT.usage : EXIT.failed };
  }
  if (isConnectionRefused(error))
    return { message: `cannot reach NATS at ${target.servers}: is the service running?`, exitCode: EXIT.failed };
  if (transientNatsFailure(error) === 'UNAVAILABLE') return { message: `lost NATS at ${target.servers}: try again`, exitCode: EXIT.failed };
  const message = error instanceof Error ? error.message : String(error);
  if (/authorization|authentication|permissions/i.test(message))
    return { message: `NATS at ${target.servers} refused: ${message} (check NATS_USER, NATS_TOKEN, NATS_CREDS)`, exitCode: EXIT.failed };
  return { message, exitCode: EXIT.failed };
}

function isConnectionRefused(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'CONNECTION_REFUSED' || /connection refused|ECONNREFUSED/i.test(cause.message)) return true;
  }
  return false;
}
