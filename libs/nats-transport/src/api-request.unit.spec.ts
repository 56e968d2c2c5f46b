import { describe, expect, it } from 'vitest';
import { commandSchemas, querySchemas } from '#contracts';
import { readApiRequest } from './api-request.js';

const config = { subjectPrefix: 'jobs' };

describe('readApiRequest', () => {
  it('reads the name from the subject and validates the body against its schema', () => {
    expect(readApiRequest('jobs.cmd.start', { jobId: 'job-1' }, config, 'cmd', commandSchemas)).toEqual({
      ok: true,
      name: 'start',
      body: { jobId: 'job-1' },
    });
  });

  it('names every command when there is no such command', () => {
    expect(readApiRequest('jobs.cmd.begin', {}, config, 'cmd', commandSchemas)).toEqual({
      ok: false,
      error: {
        code: 'UNKNOWN_COMMAND',
        message:
          'there is no command "begin" (subject jobs.cmd.begin); use one of create, update, start, pause, mark-paused, cancel, ' +
          'mark-cancelled, finish, fail, shutdown, progress, log, reject',
      },
    });
  });

  it('names every query when there is no such query', () => {
    expect(readApiRequest('jobs.query.everything', {}, config, 'query', querySchemas)).toMatchObject({
      ok: false,
      error: {
        code: 'UNKNOWN_COMMAND',
        message:
          'there is no query "everything" (subject jobs.query.everything); use one of list, get, logs, rejects, rejects-export, history',
      },
    });
  });

  it('lists the valid values of a misspelled one', () => {
    expect(readApiRequest('jobs.query.list', { status: 'finishd' }, config, 'query', querySchemas)).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        message:
          'invalid list query: status: "finishd" is not a status; use one of editing, running, pausing, paused, cancelling, ' +
          'cancelled, finished, finished_with_error, server_shutdown',
        issues: [
          {
            path: 'status',
            message:
              '"finishd" is not a status; use one of editing, running, pausing, paused, cancelling, cancelled, finished, ' +
              'finished_with_error, server_shutdown',
          },
        ],
      },
    });
  });
});
