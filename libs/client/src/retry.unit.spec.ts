import { ClosedConnectionError, NoRespondersError, PermissionViolationError, RequestError, TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import type { CommandOkReply } from '#contracts';
import { isJobsError, JobsError } from './jobs-error.js';
import { DEFAULT_RETRY_POLICY, requestWithRetry, type RequestFn } from './retry.js';

const ok: CommandOkReply = { ok: true, jobId: 'job-1', version: 2, position: 7, status: 'running' };
const timeoutReply = { ok: false, error: { code: 'TIMEOUT', message: 'JetStream did not answer the append in time' } };

/** A request function that answers (or throws) each of `outcomes` in turn, and records what it was sent. */
function scripted(...outcomes: unknown[]) {
  const sent: { subject: string; body: string; timeoutMs: number }[] = [];
  const request: RequestFn = async (subject, body, timeoutMs) => {
    sent.push({ subject, body, timeoutMs });
    const outcome = outcomes[sent.length - 1];
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { request, sent };
}

function retrying(request: RequestFn, policy = DEFAULT_RETRY_POLICY) {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  const body = JSON.stringify({ jobId: 'job-1', commandId: 'c-1' });
  return { waits, call: () => requestWithRetry(request, { subject: 'jobs.cmd.start', body, timeoutMs: 5_000, policy, sleep }) };
}

describe('requestWithRetry', () => {
  it('sends the very same body again after a TIMEOUT reply, so the command keeps its commandId, and returns the ok reply', async () => {
    const { request, sent } = scripted(timeoutReply, { ok: false, error: { code: 'UNAVAILABLE', message: 'JetStream is gone' } }, ok);
    const { call, waits } = retrying(request);
    await expect(call()).resolves.toEqual(ok);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map(({ subject, body }) => `${subject} ${body}`))).toEqual(
      new Set(['jobs.cmd.start {"jobId":"job-1","commandId":"c-1"}']),
    );
    expect(waits).toEqual([200, 400]);
  });

  it('retries a request that got no reply in time, no responders, or lost its connection', async () => {
    const { request, sent } = scripted(
      new TimeoutError(),
      new RequestError('no responders', { cause: new NoRespondersError('jobs.cmd.start') }),
      new RequestError('connection disconnected'),
      ok,
    );
    await expect(retrying(request).call()).resolves.toEqual(ok);
    expect(sent.map((attempt) => attempt.body)).toEqual(Array(4).fill(sent[0]!.body));
  });

  it('never retries a domain error: it throws it at once, with its typed fields', async () => {
    const invalid = { code: 'INVALID_TRANSITION', message: 'start does not apply to a finished job', status: 'finished', command: 'start' };
    const { request, sent } = scripted({ ok: false, error: invalid }, ok);
    const error = await retrying(request)
      .call()
      .catch((e: unknown) => e);
    expect(sent).toHaveLength(1);
    expect(error).toBeInstanceOf(JobsError);
    expect(isJobsError(error, 'INVALID_TRANSITION') && [error.code, error.message, error.error.status, error.error.command]).toEqual([
      'INVALID_TRANSITION',
      invalid.message,
      'finished',
      'start',
    ]);
  });

  it('gives up after the policy’s attempts, with the last transient error, the waits doubling up to their bound', async () => {
    const { request, sent } = scripted(...Array(6).fill(timeoutReply), ok);
    const { call, waits } = retrying(request, { attempts: 6, backoffMs: 100, maxBackoffMs: 500 });
    await expect(call()).rejects.toMatchObject({ name: 'JobsError', code: 'TIMEOUT', message: timeoutReply.error.message });
    expect(sent).toHaveLength(6);
    expect(waits).toEqual([100, 200, 400, 500, 500]);
  });

  it('makes NATS failures that outlast the retries TIMEOUT or UNAVAILABLE, with the NATS error as cause', async () => {
    const timeout = new TimeoutError();
    const { request } = scripted(...Array(4).fill(timeout));
    const error = await retrying(request)
      .call()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT', cause: timeout, message: expect.stringContaining('same commandId') });

    const noResponders = scripted(...Array(4).fill(new NoRespondersError('jobs.cmd.start')));
    await expect(retrying(noResponders.request).call()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('throws a NATS failure a retry cannot cure as it came, after one attempt: a refused permission, its own connection closed', async () => {
    for (const failure of [
      new RequestError('Permissions Violation', {
        cause: new PermissionViolationError('Permissions Violation', 'publish', 'jobs.cmd.start'),
      }),
      new ClosedConnectionError(),
    ]) {
      const { request, sent } = scripted(failure, ok);
      await expect(retrying(request).call()).rejects.toBe(failure);
      expect(sent).toHaveLength(1);
    }
  });

  it('calls a reply that is no reply of the API INTERNAL, and does not retry it', async () => {
    const { request, sent } = scripted(undefined, ok);
    await expect(retrying(request).call()).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(sent).toHaveLength(1);
  });
});
