import { JOB_STATUS_LABELS, type JobStatus } from '#contracts';

/** An error the console shows: the API's stable code and what a person should read. */
export interface ConsoleError {
  code: string;
  /** HTTP status, or 0 when the server was not reached. */
  httpStatus: number;
  /** In plain words, with what to do next. */
  words: string;
  /** The job's status now, when the error says it moved on. */
  status?: JobStatus;
}

const COMMAND_WORDS: Record<string, string> = {
  start: 'started',
  pause: 'paused',
  cancel: 'cancelled',
  update: 'edited',
};

/** The words for an error body of the HTTP API (`{code, message, ...}`), or for a reply that was no such body. */
export function describeError(httpStatus: number, body: unknown): ConsoleError {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : httpStatus === 0 ? 'NETWORK' : 'INTERNAL';
  const message = typeof error?.message === 'string' ? error.message : '';
  switch (code) {
    case 'NETWORK':
      return { code, httpStatus, words: 'The console cannot reach the server. Check the connection and try again.' };
    case 'UNAUTHENTICATED':
      return { code, httpStatus, words: 'You are not logged in, or your session has ended. Log in with your API token.' };
    case 'FORBIDDEN':
      return { code, httpStatus, words: `You are not allowed to do this${message ? `: ${message}` : '.'}` };
    case 'JOB_NOT_FOUND':
      return { code, httpStatus, words: 'There is no such job. It may have been mistyped in the address.' };
    case 'INVALID_TRANSITION': {
      const status = error?.status as JobStatus | undefined;
      const label = status && JOB_STATUS_LABELS[status];
      const command = typeof error?.command === 'string' ? error.command : '';
      const verb = COMMAND_WORDS[command] ?? `given "${command}"`;
      return {
        code,
        httpStatus,
        words: label
          ? `The job moved on: it is now "${label}", and a job in that status cannot be ${verb}.`
          : `The job moved on and no longer takes this command.`,
        ...(status ? { status } : {}),
      };
    }
    case 'CONCURRENCY_CONFLICT':
      return {
        code,
        httpStatus,
        words: 'The job changed since you opened it, so your change was not saved. Look at the job as it is now and try again.',
      };
    case 'VALIDATION_FAILED': {
      const issues = Array.isArray(error?.issues) ? (error.issues as { path?: string; message?: string }[]) : [];
      const details = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
      return { code, httpStatus, words: `The service refused what was sent: ${details || message || 'it is not valid'}.` };
    }
    case 'PAYLOAD_TOO_LARGE':
      return { code, httpStatus, words: `This is too large to send${message ? `: ${message}` : ''}. Make it smaller and try again.` };
    case 'JOB_EXISTS':
      return { code, httpStatus, words: 'A job with this id exists already.' };
    case 'UNAVAILABLE':
      return { code, httpStatus, words: 'The service is not answering right now; nothing was changed. Try again in a moment.' };
    case 'TIMEOUT':
      return { code, httpStatus, words: 'The service took too long to answer. Try again; a command sent twice is applied once.' };
    default:
      return {
        code,
        httpStatus,
        words: `Something went wrong on the server (${code}${httpStatus ? `, HTTP ${httpStatus}` : ''})${message ? `: ${message}` : ''}. Try again later.`,
      };
  }
}
