import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '#testing/service';

/**
 * On a NATS server without permissions anyone may publish `.as.<anyone>`: the actor a subject
 * names works, but is authenticated only where the deployment says its server enforces them.
 */
let service: TestService;

beforeAll(async () => {
  service = await startTestService('actor-subjects', { sides: ['commands', 'queries'] });
});

afterAll(async () => {
  await service?.close();
});

const command = (subject: string, body: unknown) => service.request(`${service.config.subjectPrefix}.cmd.${subject}`, JSON.stringify(body));

it('takes the actor from <prefix>.cmd.<name>.as.<actor>, not authenticated without JOBS_TRUST_ACTOR_SUBJECTS', async () => {
  const created = await command('create.as.alice', { label: 'Contacts', kind: 'import' });
  expect(created).toMatchObject({ ok: true, version: 1 });
  const { jobId } = created;
  const started = await command('start', { jobId, actor: 'bob' });
  expect(started).toMatchObject({ ok: true });

  const { events } = await service.storedJob(jobId);
  expect(events.map((event) => [event.actor, event.actorAuthenticated])).toEqual([
    ['alice', false],
    ['bob', false],
  ]);
  const { items } = await service.query('logs', { jobId, minPosition: started.position });
  expect(items.map((item: { message: string }) => item.message)).toEqual([
    expect.stringContaining('created by alice'),
    expect.stringContaining('by bob'),
  ]);
  expect((await service.query('get', { jobId })).job.createdBy).toBe('alice');
});

it('refuses a body naming another actor than the subject, and appends nothing', async () => {
  const reply = await command('create.as.alice', { jobId: 'not-mine', label: 'Not mine', kind: 'import', actor: 'bob' });
  expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', issues: [{ path: 'actor' }] } });
  expect((await service.storedJob('not-mine')).events).toEqual([]);
});

it('marks the subject’s actor authenticated where JOBS_TRUST_ACTOR_SUBJECTS=true, and a body’s actor never', async () => {
  const trusting = await startTestService('actor-subjects-trusted', { env: { JOBS_TRUST_ACTOR_SUBJECTS: 'true' } });
  try {
    const { jobId } = await trusting.request(
      `${trusting.config.subjectPrefix}.cmd.create.as.alice`,
      JSON.stringify({ label: 'Exports', kind: 'export' }),
    );
    await trusting.command('start', { jobId, actor: 'alice' });
    const { events } = await trusting.storedJob(jobId);
    expect(events.map((event) => [event.type, event.actor, event.actorAuthenticated])).toEqual([
      ['Created', 'alice', true],
      ['Started', 'alice', false],
    ]);
  } finally {
    await trusting.close();
  }
});
