import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_HEADERS, type JobEventType } from '#contracts';
import { ReadModelProjector } from '#query-service';
import { testEvent } from '#testing/event-store.contract';
import { readModelRows } from '#testing/read-models';
import { startTestService, type TestService } from '#testing/service';

// Anyone who may publish to the events subjects can put anything there (NATS permissions are what
// keep them out, see deploy/nats): what the service must do is read past it, never apply it.

let service: TestService;

beforeAll(async () => {
  service = await startTestService('poisoned', { sides: ['commands', 'queries'] });
});

afterAll(async () => {
  await service?.close();
});

/** Publishes a message to a job's events subject by hand, as any client could; its position. */
async function publishRaw(jobId: string, body: string, version?: number): Promise<number> {
  const headers = natsHeaders();
  if (version !== undefined) headers.set(EVENT_HEADERS.version, String(version));
  const ack = await jetstream(service.nc).publish(`${service.config.subjectPrefix}.events.${jobId}`, body, { headers });
  return ack.seq;
}

/** A well-formed event of this type with this data, as the service would store it. */
function forged(jobId: string, version: number, type: JobEventType, data: unknown) {
  return { ...testEvent(jobId, version, type), data };
}

async function runningJob(label: string): Promise<string> {
  const { jobId } = await service.command('create', { label, kind: 'import', actor: 'alice' });
  expect(await service.command('start', { jobId, actor: 'alice' })).toMatchObject({ ok: true, version: 2 });
  return jobId;
}

async function quarantine(): Promise<{ count: number; last: { position: number; jobId: string; reason: string } | null }> {
  const status = await service.request(`${service.config.subjectPrefix}.admin.read-models-status`, '{}');
  expect(status).toMatchObject({ ok: true, lastError: null });
  return status.quarantined;
}

describe('a message that is not JSON on a job subject', () => {
  it('is quarantined: the projector goes on, commands and history on the job work, a fresh instance reads past it too', async () => {
    const before = await quarantine();
    const jobId = await runningJob('Poisoned job');
    const garbage = await publishRaw(jobId, 'this is not json');

    // The command side reads past it: the job is where its valid events left it.
    const logged = await service.command('log', { jobId, level: 'info', message: 'still here' });
    expect(logged).toMatchObject({ ok: true, version: 3, status: 'running' });
    expect(logged.position).toBeGreaterThan(garbage);
    // So does the projector: a read of the command's own write answers.
    const read = await service.query('get', { jobId, minPosition: logged.position, maxWaitMs: 5_000 });
    expect(read).toMatchObject({ ok: true, job: { jobId, status: 'running', version: 3, label: 'Poisoned job' } });
    expect(await quarantine()).toEqual({
      count: before.count + 1,
      last: { position: garbage, jobId, reason: 'its body is not JSON' },
    });

    const history = await service.query('history', { jobId });
    expect(history).toMatchObject({ ok: true, state: { version: 3, status: 'running' } });
    expect(history.events.map((event: { type: string }) => event.type)).toEqual(['Created', 'Started', 'MessageLogged']);
    expect(history.quarantined).toEqual([{ position: garbage, reason: 'its body is not JSON' }]);

    // A new query instance, from an empty file, goes past it as well.
    const instance = await service.startInstance();
    try {
      const fresh = instance.get(ReadModelProjector);
      await fresh.waitFor(logged.position, 5_000);
      expect(fresh.queries.getJob(jobId)).toMatchObject({ status: 'running', version: 3 });
      expect((await fresh.status()).quarantined).toMatchObject({ count: before.count + 1 });
    } finally {
      // The other tests ask one instance for its status: the first one.
      service.instances.splice(service.instances.indexOf(instance), 1);
      await instance.close();
    }
  });

  it('does not keep a job from being created when it came before any event of the job', async () => {
    const jobId = `poisoned-${Date.now()}`;
    await publishRaw(jobId, '{"not": "an array"}', 1);
    const created = await service.command('create', { jobId, label: 'Created after the garbage', kind: 'export' });
    expect(created).toMatchObject({ ok: true, jobId, version: 1, status: 'editing' });
    expect(await service.query('get', { jobId, minPosition: created.position })).toMatchObject({ ok: true, job: { version: 1 } });
  });
});

describe('forged events the check can tell', () => {
  it('are quarantined and change neither the job of their subject nor the job their body names', async () => {
    const before = await quarantine();
    const b = await runningJob('Job B');
    const c = await runningJob('Job C');
    const forgeries = [
      // A Created on a running job would reset its label, status and creator.
      await publishRaw(
        b,
        JSON.stringify([
          forged(b, 3, 'Created', { label: 'Hijacked', kind: 'export', definition: {}, rejectPolicy: { maxRejects: null } }),
        ]),
        3,
      ),
      // Version 50 on a version-2 job.
      await publishRaw(b, JSON.stringify([forged(b, 50, 'Finished', {})]), 50),
      // On B's subject, a body that names C.
      await publishRaw(b, JSON.stringify([forged(c, 3, 'Finished', {})]), 3),
    ];
    const reasons = [
      'event 1 of 1 (Created) is on a job that exists already',
      "event 1 of 1 has version 50, but the job's next version is 3",
      `event 1 of 1 names job ${c}, but the commit is on job ${b}'s subject`,
    ];

    const unchanged = { status: 'running', version: 2, createdBy: 'alice' };
    const readB = await service.query('get', { jobId: b, minPosition: forgeries.at(-1), maxWaitMs: 5_000 });
    expect(readB).toMatchObject({ ok: true, job: { ...unchanged, label: 'Job B', kind: 'import' } });
    expect(await service.query('get', { jobId: c })).toMatchObject({ ok: true, job: { ...unchanged, label: 'Job C' } });
    expect(await quarantine()).toEqual({ count: before.count + 3, last: { position: forgeries[2], jobId: b, reason: reasons[2] } });

    // The command side agrees: B goes on from version 2, C is still running.
    const progress = await service.command('progress', { jobId: b, processed: 10 });
    expect(progress).toMatchObject({ ok: true, version: 3, status: 'running' });
    expect(progress.position).toBeGreaterThan(forgeries.at(-1)!);
    expect(await service.command('finish', { jobId: c })).toMatchObject({ ok: true, version: 3, status: 'finished' });
    // History leaves them out of the events and lists them.
    const history = await service.query('history', { jobId: b });
    expect(history.events.map((event: { type: string }) => event.type)).toEqual(['Created', 'Started', 'ProgressReported']);
    expect(history.quarantined).toEqual(forgeries.map((position, i) => ({ position, reason: reasons[i] })));
    const after = await service.query('get', { jobId: b, minPosition: progress.position });
    expect(after).toMatchObject({ ok: true, job: { status: 'running', version: 3, label: 'Job B', processed: 10 } });
  });
});

describe('a rebuild', () => {
  it('quarantines the same commits as the live projection did, row for row', async () => {
    const projector = service.instances[0]!.get(ReadModelProjector);
    await projector.waitFor(await service.lastSequence(), 5_000);
    const liveFile = projector.databaseFile;
    const live = readModelRows(liveFile);
    expect(live.quarantined.length).toBeGreaterThanOrEqual(5);
    const report = await service.request(`${service.config.subjectPrefix}.admin.rebuild-read-models`, '{}');
    expect(report).toMatchObject({ ok: true, position: live.checkpoint });
    expect(projector.databaseFile).not.toBe(liveFile);
    expect(readModelRows(projector.databaseFile)).toEqual(live);
  });
});
