import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '#contracts';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;

beforeAll(async () => {
  // Two instances in one queue group, as in production.
  service = await startTestService('guarantees', { instances: 2 });
});

afterAll(async () => {
  await service?.close();
});

/** A job's events as stored, body and all. */
async function storedEvents(jobId: string): Promise<JobEvent[]> {
  return (await service.storedJob(jobId)).events;
}

async function runningJob(): Promise<string> {
  const { jobId } = await service.command('create', { label: 'Contacts', kind: 'import' });
  await service.command('start', { jobId });
  return jobId;
}

/** A running job an executor holds: pause and cancel wait for it to confirm. */
async function claimedJob(): Promise<string> {
  const jobId = await runningJob();
  expect(await service.command('claim', { jobId, executor: 'executor-1' })).toMatchObject({ ok: true, version: 3 });
  return jobId;
}

describe('idempotency by commandId', () => {
  it('appends one event for a retried command and answers every retry with the first reply', async () => {
    const jobId = await claimedJob();
    const body = { jobId, commandId: `pause-${jobId}`, actor: 'operator' };
    const first = await service.command('pause', body);
    expect(first).toMatchObject({ ok: true, status: 'pausing', version: 4 });
    // Retries reach both instances of the queue group.
    const retries = await Promise.all(Array.from({ length: 6 }, () => service.command('pause', body)));
    for (const retry of retries) expect(retry).toEqual(first);
    await service.command('mark-paused', { jobId });
    // Still the first reply once the job has moved on.
    expect(await service.command('pause', body)).toEqual(first);
    expect((await storedEvents(jobId)).filter((event) => event.type === 'PauseRequested')).toHaveLength(1);
  });

  it('answers a retried create without a jobId with the same job', async () => {
    const body = { label: 'Idempotent create', kind: 'export', commandId: `create-${Date.now()}` };
    const first = await service.command('create', body);
    const again = await service.command('create', body);
    expect(again).toEqual(first);
    expect(await storedEvents(first.jobId)).toHaveLength(1);
  });

  it('refuses a commandId sent again with another command with COMMAND_ID_REUSED, and appends nothing', async () => {
    const jobId = await runningJob();
    const commandId = `progress-${jobId}`;
    const first = await service.command('progress', { jobId, commandId, processed: 5 });
    const create = { label: 'Reused create', kind: 'import', commandId: `create-${jobId}` };
    const created = await service.command('create', create);
    const head = await service.lastSequence();
    // Sent several times: both instances of the queue group answer.
    const replies = await Promise.all([
      ...Array.from({ length: 3 }, () => service.command('progress', { jobId, commandId, processed: 6 })),
      ...Array.from({ length: 3 }, () => service.command('finish', { jobId, commandId })),
    ]);
    for (const reply of replies) {
      expect(reply).toEqual({
        ok: false,
        error: {
          code: 'COMMAND_ID_REUSED',
          message: `commandId "${commandId}" was already used for another command on job ${jobId}; send a new commandId for a new command, or resend the very same command to get its first reply`,
        },
      });
    }
    // A create without jobId: the same commandId lands on the same job, which is not JOB_EXISTS.
    expect(await service.command('create', { ...create, label: 'Another create' })).toMatchObject({
      ok: false,
      error: { code: 'COMMAND_ID_REUSED', message: expect.stringContaining(`on job ${created.jobId};`) },
    });
    expect(await service.lastSequence()).toBe(head);
    expect(await service.command('progress', { jobId, commandId, processed: 5 })).toEqual(first);
    expect((await storedEvents(jobId)).map((event) => event.type)).toEqual(['Created', 'Started', 'ProgressReported']);
  });

  it('gives the first reply after the instance that handled it restarted', async () => {
    const jobId = await runningJob();
    const body = { jobId, commandId: `progress-${jobId}`, processed: 5 };
    const first = await service.command('progress', body);
    // Replace every instance: what remains of the first reply is in the event store only.
    const old = service.instances.splice(0);
    await service.startInstance();
    await Promise.all(old.map((app) => app.close()));
    expect(await service.command('progress', body)).toEqual(first);
    await service.startInstance();
    expect((await storedEvents(jobId)).filter((event) => event.type === 'ProgressReported')).toHaveLength(1);
  });
});

describe('concurrent conflicting commands', () => {
  // The paths the spec allows from running: an executor's job maybe pausing, maybe cancelling, then
  // one end; a job nobody holds paused at once (then only cancelled), or cancelled, finished or failed.
  it.each([
    {
      holder: 'an executor',
      makeJob: claimedJob,
      begun: 'Created Started Claimed',
      path: /^(PauseRequested )?(CancellationRequested )?(Finished|Errored)$/,
    },
    { holder: 'no executor', makeJob: runningJob, begun: 'Created Started', path: /^(Paused Cancelled|Cancelled|Finished|Errored)$/ },
  ])(
    'ends 50 concurrent pause, cancel, finish and fail commands on one job $holder holds in one valid outcome',
    async ({ makeJob, begun, path }) => {
      expect(service.instances.length).toBeGreaterThanOrEqual(2);
      const jobId = await makeJob();
      const kinds = [
        { name: 'pause', body: {} },
        { name: 'cancel', body: {} },
        { name: 'finish', body: { processed: 1 } },
        { name: 'fail', body: { error: { message: 'boom' } } },
      ];
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const { name, body } = kinds[i % kinds.length]!;
          return service.command(name, { jobId, ...body });
        }),
      );
      for (const reply of replies) {
        if (!reply.ok) expect(['INVALID_TRANSITION', 'CONCURRENCY_CONFLICT']).toContain(reply.error.code);
      }
      const events = await storedEvents(jobId);
      expect(events.map((event) => event.version)).toEqual(events.map((_, i) => i + 1));
      const finalIndex = events.findIndex((event) => ['Cancelled', 'Finished', 'Errored'].includes(event.type));
      expect(finalIndex).toBeGreaterThan(-1);
      expect(finalIndex).toBe(events.length - 1);
      const types = events.map((event) => event.type).join(' ');
      expect(types.startsWith(`${begun} `)).toBe(true);
      expect(types.slice(begun.length + 1)).toMatch(path);
    },
  );
});

describe('bad input', () => {
  const cases: [string, () => Promise<{ subject: string; data: string | Uint8Array }>, string][] = [
    ['malformed JSON', async () => ({ subject: 'start', data: '{"jobId": ' }), 'VALIDATION_FAILED'],
    ['a missing field', async () => ({ subject: 'create', data: JSON.stringify({ kind: 'import' }) }), 'VALIDATION_FAILED'],
    ['a mistyped field', async () => ({ subject: 'create', data: JSON.stringify({ label: 'x', kind: 'upload' }) }), 'VALIDATION_FAILED'],
    ['an unknown field', async () => ({ subject: 'start', data: JSON.stringify({ jobId: 'a', force: true }) }), 'VALIDATION_FAILED'],
    ['a JSON array body', async () => ({ subject: 'start', data: '[1,2]' }), 'VALIDATION_FAILED'],
    ['an unknown job', async () => ({ subject: 'start', data: JSON.stringify({ jobId: 'no-such-job' }) }), 'JOB_NOT_FOUND'],
    [
      'an invalid transition',
      async () => ({ subject: 'mark-cancelled', data: JSON.stringify({ jobId: await runningJob() }) }),
      'INVALID_TRANSITION',
    ],
    [
      'a create of a job that exists',
      async () => ({ subject: 'create', data: JSON.stringify({ jobId: await runningJob(), label: 'again', kind: 'import' }) }),
      'JOB_EXISTS',
    ],
    [
      'a body over the size limit',
      async () => ({ subject: 'log', data: JSON.stringify({ jobId: 'a', level: 'info', message: 'x'.repeat(300_000) }) }),
      'PAYLOAD_TOO_LARGE',
    ],
    ['an unknown subject under cmd', async () => ({ subject: 'explode', data: '{}' }), 'UNKNOWN_COMMAND'],
    ['an unknown nested subject under cmd', async () => ({ subject: 'start.now', data: '{}' }), 'UNKNOWN_COMMAND'],
  ];

  it.each(cases)('answers %s with a typed error within a second and appends nothing', async (_, make, code) => {
    const { subject, data } = await make();
    const before = await service.lastSequence();
    const started = performance.now();
    const reply = await service.request(`${service.config.subjectPrefix}.cmd.${subject}`, data);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(reply).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
    expect(await service.lastSequence()).toBe(before);
  });

  it('names the current status in an invalid transition and every problem in a validation error', async () => {
    const jobId = await runningJob();
    const invalid = await service.command('update', { jobId, label: 'late' });
    expect(invalid.error).toMatchObject({ code: 'INVALID_TRANSITION', status: 'running' });
    expect(invalid.error.message).toContain('Execution in progress');
    const validation = await service.command('progress', { jobId, processed: -1, extra: 1 });
    expect(validation.error.code).toBe('VALIDATION_FAILED');
    expect(validation.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(['(body)', 'processed']);
  });

  it('rejects a stale expectedVersion with CONCURRENCY_CONFLICT', async () => {
    const jobId = await runningJob();
    const reply = await service.command('pause', { jobId, expectedVersion: 1 });
    expect(reply.error).toMatchObject({ code: 'CONCURRENCY_CONFLICT', expectedVersion: 1, actualVersion: 2 });
    expect(await service.command('pause', { jobId, expectedVersion: 2 })).toMatchObject({ ok: true, version: 3 });
  });
});
