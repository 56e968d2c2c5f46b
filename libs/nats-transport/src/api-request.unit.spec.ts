import { describe, expect, it } from 'vitest';
import { commandSchemas, querySchemas } from '#contracts';
import { readApiRequest, readCommandRequest } from './api-request.js';

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
          'mark-cancelled, finish, fail, shutdown, progress, log, claim, reject',
      },
    });
  });

  it('names every query when there is no such query', () => {
    expect(readApiRequest('jobs.query.everything', {}, config, 'query', querySchemas)).toMatchObject({
      ok: false,
      error: {
        code: 'UNKNOWN_COMMAND',
        message:
          'there is no query "everything" (subject jobs.query.everything); use one of list, status-counts, get, logs, rejects, rejects-export, history',
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

describe('readCommandRequest', () => {
  it('takes the actor from the body on a plain subject, not from the subject', () => {
    expect(readCommandRequest('jobs.cmd.start', { jobId: 'job-1', actor: 'alice' }, config)).toEqual({
      ok: true,
      name: 'start',
      body: { jobId: 'job-1', actor: 'alice' },
      actorFromSubject: false,
    });
    expect(readCommandRequest('jobs.cmd.start', { jobId: 'job-1' }, config)).toMatchObject({
      body: { jobId: 'job-1' },
      actorFromSubject: false,
    });
  });

  it("takes the actor from the subject's last token on <prefix>.cmd.<name>.as.<actor>", () => {
    expect(readCommandRequest('jobs.cmd.start.as.alice', { jobId: 'job-1' }, config)).toEqual({
      ok: true,
      name: 'start',
      body: { jobId: 'job-1', actor: 'alice' },
      actorFromSubject: true,
    });
    expect(readCommandRequest('acme.jobs.cmd.mark-paused.as.executor-1', { jobId: 'job-1' }, { subjectPrefix: 'acme.jobs' })).toMatchObject(
      {
        name: 'mark-paused',
        body: { actor: 'executor-1' },
        actorFromSubject: true,
      },
    );
  });

  it('accepts a body naming the same actor as the subject', () => {
    expect(readCommandRequest('jobs.cmd.start.as.alice', { jobId: 'job-1', actor: 'alice' }, config)).toMatchObject({
      ok: true,
      body: { actor: 'alice' },
      actorFromSubject: true,
    });
  });

  it('refuses a body naming another actor than the subject: VALIDATION_FAILED on actor', () => {
    expect(readCommandRequest('jobs.cmd.start.as.alice', { jobId: 'job-1', actor: 'bob' }, config)).toEqual({
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        message:
          'invalid start command: actor: the body\'s actor "bob" is not "alice", the actor the subject names: leave actor out of the body',
        issues: [
          { path: 'actor', message: 'the body\'s actor "bob" is not "alice", the actor the subject names: leave actor out of the body' },
        ],
      },
    });
  });

  it("holds the subject's actor to the body's limits, and the body to its schema", () => {
    expect(readCommandRequest(`jobs.cmd.start.as.${'a'.repeat(201)}`, { jobId: 'job-1' }, config)).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', issues: [{ path: 'actor' }] },
    });
    expect(readCommandRequest('jobs.cmd.start.as.alice', { jobId: 'job-1', extra: 1 }, config)).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(readCommandRequest('jobs.cmd.start.as.alice', [1], config)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });

  it('names the command, not the actor, when there is no such command, and any other shape of subject is no command', () => {
    expect(readCommandRequest('jobs.cmd.begin.as.alice', {}, config)).toMatchObject({
      ok: false,
      error: {
        code: 'UNKNOWN_COMMAND',
        message: expect.stringMatching(/^there is no command "begin" \(subject jobs\.cmd\.begin\.as\.alice\)/),
      },
    });
    for (const subject of ['jobs.cmd.start.as', 'jobs.cmd.start.by.alice', 'jobs.cmd.start.as.alice.bob']) {
      expect(readCommandRequest(subject, { jobId: 'job-1' }, config), subject).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_COMMAND' },
      });
    }
  });
});
