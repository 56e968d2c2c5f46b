import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { JobsClient } from './jobs-client.js';

const ok = { ok: true, jobId: 'job-1', version: 2, position: 7, status: 'running' };
const timeoutReply = { ok: false, error: { code: 'TIMEOUT', message: 'JetStream did not answer the append in time' } };

/** A connection whose requests get `replies` in turn (ok once they run out; a string as its text), recording subjects and bodies. */
function fakeNats(...replies: unknown[]) {
  const sent: { subject: string; body: Record<string, unknown> }[] = [];
  const nc = {
    request: async (subject: string, data: string) => {
      sent.push({ subject, body: JSON.parse(data) });
      const reply = replies[sent.length - 1] ?? ok;
      return { string: () => (typeof reply === 'string' ? reply : JSON.stringify(reply)) };
    },
  } as unknown as NatsConnection;
  return { nc, sent };
}

const fastRetries = { retry: { backoffMs: 1 } };

describe('JobsClient commands', () => {
  it('gives each call a commandId of its own, and keeps it when the call is retried after a TIMEOUT', async () => {
    const { nc, sent } = fakeNats(timeoutReply, timeoutReply, ok, ok);
    const client = new JobsClient(nc, fastRetries);
    await expect(client.start({ jobId: 'job-1' })).resolves.toEqual(ok);
    await client.start({ jobId: 'job-2' });

    const ids = sent.map(({ body }) => body.commandId);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids.slice(0, 3)).toEqual([ids[0], ids[0], ids[0]]);
    expect(ids[3]).not.toBe(ids[0]);
  });

  it('sends the commandId it is given', async () => {
    const { nc, sent } = fakeNats();
    await new JobsClient(nc).create({ commandId: 'nightly-2024-06-01', label: 'Nightly contacts import', kind: 'import' });
    expect(sent[0]!.body).toEqual({ commandId: 'nightly-2024-06-01', label: 'Nightly contacts import', kind: 'import' });
  });

  it('sends on <prefix>.cmd.<name>.as.<actor> with no actor in the body when the client has an actor, and on <prefix>.cmd.<name> otherwise', async () => {
    const { nc, sent } = fakeNats();
    const executor = new JobsClient(nc, { subjectPrefix: 'acme.jobs', actor: 'executor-1' });
    await executor.markPaused({ jobId: 'job-1' });
    await executor.progress({ jobId: 'job-1', processed: 10 }, { actor: 'executor-2' });
    await new JobsClient(nc, { subjectPrefix: 'acme.jobs' }).markCancelled({ jobId: 'job-1', actor: 'alice' });

    expect(sent.map(({ subject }) => subject)).toEqual([
      'acme.jobs.cmd.mark-paused.as.executor-1',
      'acme.jobs.cmd.progress.as.executor-2',
      'acme.jobs.cmd.mark-cancelled',
    ]);
    expect(sent.map(({ body }) => body.actor)).toEqual([undefined, undefined, 'alice']);
  });

  it('refuses an actor that is not one subject token before sending anything', async () => {
    const { nc, sent } = fakeNats();
    expect(() => new JobsClient(nc, { actor: 'executor.1' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    await expect(new JobsClient(nc).finish({ jobId: 'job-1' }, { actor: '>' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      error: { issues: [{ path: 'actor' }] },
    });
    expect(sent).toEqual([]);
  });
});

describe('JobsClient queries', () => {
  it('asks <prefix>.query.<name>, retrying a TIMEOUT, and returns the reply', async () => {
    const exported = { ok: true, jobId: 'job-1', contentType: 'text/csv', bucket: 'JOBS_exports', name: 'job-1.csv', size: 12 };
    const { nc, sent } = fakeNats(timeoutReply, exported);
    await expect(new JobsClient(nc, fastRetries).rejectsExport({ jobId: 'job-1' })).resolves.toEqual(exported);
    expect(sent).toEqual([
      { subject: 'jobs.query.rejects-export', body: { jobId: 'job-1' } },
      { subject: 'jobs.query.rejects-export', body: { jobId: 'job-1' } },
    ]);
  });
});

describe('JobsClient.queryJson', () => {
  it('returns an ok reply as the text it came as, retrying a TIMEOUT', async () => {
    const page = '{"ok":true,"items":[{"jobId":"job-1","record":{"a":1}}],"total":1,"nextCursor":null}';
    const { nc, sent } = fakeNats(timeoutReply, page);
    await expect(new JobsClient(nc, fastRetries).queryJson('list', { limit: 1 })).resolves.toBe(page);
    expect(sent).toEqual([
      { subject: 'jobs.query.list', body: { limit: 1 } },
      { subject: 'jobs.query.list', body: { limit: 1 } },
    ]);
  });

  it('serializes an ok reply written otherwise as JSON.stringify does, and throws an error reply as query does', async () => {
    const { nc } = fakeNats(
      '{ "ok": true, "items": [] }',
      { ok: false, error: { code: 'JOB_NOT_FOUND', message: 'job job-9 does not exist' } },
      'no JSON',
    );
    const client = new JobsClient(nc, fastRetries);
    await expect(client.queryJson('list', {})).resolves.toBe('{"ok":true,"items":[]}');
    await expect(client.queryJson('logs', { jobId: 'job-9' })).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(client.queryJson('logs', { jobId: 'job-9' })).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('JobsClient.watch', () => {
  it('refuses a job id that is not one subject token (it would follow other jobs) and a bad position', () => {
    const { nc } = fakeNats();
    const client = new JobsClient(nc);
    expect(() => client.watch('job-1.>')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => client.watchAll({ fromPosition: -1 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
