import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUSES, type JobStatus } from '#contracts';
import { TEST_NATS_URL } from '#testing/nats';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;
let nestClient: ClientProxy;

beforeAll(async () => {
  service = await startTestService('commands');
  nestClient = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [TEST_NATS_URL] } }) as ClientProxy;
  await nestClient.connect();
});

afterAll(async () => {
  await nestClient?.close();
  await service?.close();
});

/** Each event type, read from the headers of the job's messages in the stream, without parsing bodies. */
async function storedEventTypes(jobId: string): Promise<string[]> {
  return (await service.storedJob(jobId)).headerTypes;
}

describe('a job through every status, by plain NATS requests', () => {
  it('walks editing, running, pausing, paused, server shutdown, cancelling, cancelled with contiguous versions', async () => {
    const steps: [string, Record<string, unknown>, JobStatus][] = [
      ['update', { label: 'Nightly contacts import (v2)' }, 'editing'],
      ['start', {}, 'running'],
      // An executor holds each run, so pause and cancel wait for it to confirm.
      ['claim', { executor: 'executor-1' }, 'running'],
      ['progress', { processed: 10, total: 100 }, 'running'],
      ['pause', {}, 'pausing'],
      ['mark-paused', {}, 'paused'],
      ['start', {}, 'running'],
      ['claim', { executor: 'executor-1' }, 'running'],
      ['shutdown', { reason: 'node drained' }, 'server_shutdown'],
      ['start', {}, 'running'],
      ['claim', { executor: 'executor-1' }, 'running'],
      ['log', { level: 'warning', message: 'slow source' }, 'running'],
      ['cancel', {}, 'cancelling'],
      ['mark-cancelled', {}, 'cancelled'],
    ];
    const created = await service.command('create', { label: 'Nightly contacts import', kind: 'import', actor: 'alice' });
    expect(created).toMatchObject({ ok: true, version: 1, status: 'editing' });
    const jobId = created.jobId as string;
    let last = created;
    const seen = new Set<JobStatus>(['editing']);
    for (const [name, body, status] of steps) {
      const reply = await service.command(name, { jobId, actor: 'alice', ...body });
      expect(reply, `${name}`).toEqual({ ok: true, jobId, version: last.version + 1, position: expect.any(Number), status });
      expect(reply.position).toBeGreaterThan(last.position);
      seen.add(status);
      last = reply;
    }
    expect(await storedEventTypes(jobId)).toEqual([
      'Created',
      'DefinitionUpdated',
      'Started',
      'Claimed',
      'ProgressReported',
      'PauseRequested',
      'Paused',
      'Started',
      'Claimed',
      'ServerShutdown',
      'Started',
      'Claimed',
      'MessageLogged',
      'CancellationRequested',
      'Cancelled',
    ]);

    const finished = await service.command('create', { label: 'Export', kind: 'export' });
    await service.command('start', { jobId: finished.jobId });
    expect(await service.command('finish', { jobId: finished.jobId, processed: 5, total: 5 })).toMatchObject({
      status: 'finished',
      version: 3,
    });
    seen.add('finished');

    const failed = await service.command('create', { label: 'Broken import', kind: 'import' });
    await service.command('start', { jobId: failed.jobId });
    expect(await service.command('fail', { jobId: failed.jobId, error: { message: 'disk full', code: 'ENOSPC' } })).toMatchObject({
      status: 'finished_with_error',
    });
    seen.add('finished_with_error');
    expect([...seen].sort()).toEqual([...JOB_STATUSES].sort());
  });

  it('ends a job whose rejects pass its limit, with both events in one commit', async () => {
    const { jobId } = await service.command('create', { label: 'Strict import', kind: 'import', rejectPolicy: { maxRejects: 2 } });
    await service.command('start', { jobId });
    const records = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ line: from + i, reason: 'bad email', record: { email: 'x' } }));
    expect(await service.command('reject', { jobId, records: records(1, 2) })).toMatchObject({ status: 'running', version: 3 });
    const before = await service.lastSequence();
    const stopped = await service.command('reject', { jobId, records: records(3, 1) });
    expect(stopped).toMatchObject({ ok: true, status: 'finished_with_error', version: 5 });
    expect(await service.lastSequence()).toBe(before + 1);
    expect(await storedEventTypes(jobId)).toEqual(['Created', 'Started', 'RecordsRejected', 'RecordsRejected', 'Errored']);
  });
});

describe('a NestJS ClientProxy', () => {
  it('gets the same replies as a plain NATS request', async () => {
    const subject = (name: string) => `${service.config.subjectPrefix}.cmd.${name}`;
    const created = await firstValueFrom(
      nestClient.send(subject('create'), { label: 'From Nest', kind: 'export', commandId: 'nest-create-1' }),
    );
    expect(created).toMatchObject({ ok: true, version: 1, status: 'editing' });
    const plainRetry = await service.command('create', { label: 'From Nest', kind: 'export', commandId: 'nest-create-1' });
    expect(plainRetry).toEqual(created);

    const started = await firstValueFrom(nestClient.send(subject('start'), { jobId: created.jobId }));
    expect(started).toEqual({ ok: true, jobId: created.jobId, version: 2, position: expect.any(Number), status: 'running' });

    const nestError = await firstValueFrom(nestClient.send(subject('mark-paused'), { jobId: created.jobId }));
    const plainError = await service.command('mark-paused', { jobId: created.jobId });
    expect(nestError).toEqual(plainError);
    expect(nestError).toMatchObject({ ok: false, error: { code: 'INVALID_TRANSITION', status: 'running' } });
  });
});
