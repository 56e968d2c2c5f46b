import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService('executor-protocol', { sides: ['commands', 'queries'] });
});

afterAll(async () => {
  await service?.close();
});

let jobs = 0;

/** A started job, waiting for an executor. */
async function startedJob(): Promise<string> {
  const jobId = `job-${++jobs}`;
  expect(await service.command('create', { jobId, label: 'Contacts import', kind: 'import' })).toMatchObject({ ok: true });
  expect(await service.command('start', { jobId })).toMatchObject({ ok: true, status: 'running' });
  return jobId;
}

/** The job as `get` shows it once the read side has the command's position. */
async function get(jobId: string, minPosition: number): Promise<any> {
  const reply = await service.query('get', { jobId, minPosition });
  expect(reply).toMatchObject({ ok: true });
  return reply.job;
}

describe('claims', () => {
  it('gives a started job to exactly one of two executors that claim it at once', async () => {
    const jobId = await startedJob();
    const replies = await Promise.all(
      ['worker-a', 'worker-b'].map((executor) => service.command(`claim.as.${executor}`, { jobId, executor, leaseMs: 5_000 })),
    );
    const won = replies.filter((reply) => reply.ok);
    const lost = replies.filter((reply) => !reply.ok);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = replies[0].ok ? 'worker-a' : 'worker-b';
    const loser = winner === 'worker-a' ? 'worker-b' : 'worker-a';
    expect(lost[0]).toEqual({
      ok: false,
      error: {
        code: 'JOB_CLAIMED',
        executor: winner,
        message: `job ${jobId} is claimed by executor ${winner}, not ${loser}: leave it to that executor and claim another job`,
      },
    });
    const { events } = await service.storedJob(jobId);
    expect(events.filter((event) => event.type === 'Claimed')).toMatchObject([
      { data: { executor: winner, leaseMs: 5_000 }, actor: winner },
    ]);
    // The winner's claim again is a repeat: nothing appended.
    expect(await service.command('claim', { jobId, executor: winner })).toMatchObject({ ok: true, version: 3, status: 'running' });
    expect(await service.lastSequence()).toBe(won[0].position);
  });

  it('shows on get and list who runs a job, and null while a started job waits for an executor', async () => {
    const jobId = await startedJob();
    const waiting = await service.query('list', { status: 'running', minPosition: await service.lastSequence(), limit: 500 });
    expect(waiting.items.find((job: any) => job.jobId === jobId)).toMatchObject({ status: 'running', executor: null, leaseMs: null });
    const claimed = await service.command('claim', { jobId, executor: 'worker-c' });
    expect(await get(jobId, claimed.position)).toMatchObject({ status: 'running', executor: 'worker-c', leaseMs: 15_000 });
    const logs = await service.query('logs', { jobId, minPosition: claimed.position });
    expect(logs.items.at(-1)).toMatchObject({
      level: 'info',
      message: 'Claimed by executor worker-c (lease 15 s), sent by anonymous: Execution in progress',
      eventType: 'Claimed',
    });
    const finished = await service.command('finish', { jobId, executor: 'worker-c', processed: 3 });
    expect(await get(jobId, finished.position)).toMatchObject({ status: 'finished', executor: null, leaseMs: null });
  });

  it('refuses a claim of a job that is not running, and a malformed executor id', async () => {
    const jobId = `job-${++jobs}`;
    await service.command('create', { jobId, label: 'Not started', kind: 'export' });
    expect(await service.command('claim', { jobId, executor: 'worker-a' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_TRANSITION', status: 'editing', command: 'claim' },
    });
    expect(await service.command('claim', { jobId, executor: 'worker.a' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', issues: [{ path: 'executor' }] },
    });
  });
});

describe('fencing', () => {
  it("refuses another executor's commands on a claimed job and appends nothing", async () => {
    const jobId = await startedJob();
    const claimed = await service.command('claim', { jobId, executor: 'worker-a' });
    for (const [name, body] of [
      ['progress', { processed: 1 }],
      ['log', { level: 'info', message: 'not mine' }],
      ['finish', {}],
      ['shutdown', { reason: 'late' }],
    ] as const) {
      expect(await service.command(name, { jobId, executor: 'worker-b', ...body })).toMatchObject({
        ok: false,
        error: { code: 'JOB_CLAIMED', executor: 'worker-a' },
      });
    }
    expect(await service.lastSequence()).toBe(claimed.position);
    // The holder's own command goes through.
    expect(await service.command('progress', { jobId, executor: 'worker-a', processed: 2 })).toMatchObject({ ok: true, version: 4 });
  });

  it('refuses the commands of an executor whose run ended, once the job started again, until it claims it again', async () => {
    const jobId = await startedJob();
    await service.command('claim', { jobId, executor: 'worker-a' });
    await service.command('shutdown', { jobId, reason: 'lease expired' });
    const restarted = await service.command('start', { jobId });
    expect(await service.command('progress', { jobId, executor: 'worker-a', processed: 9 })).toMatchObject({
      ok: false,
      error: { code: 'JOB_CLAIMED', executor: null, message: expect.stringContaining('claim it again') },
    });
    expect(await service.lastSequence()).toBe(restarted.position);
    expect(await service.command('claim', { jobId, executor: 'worker-a' })).toMatchObject({ ok: true });
  });

  it('pauses and cancels a running job nobody holds at once', async () => {
    const pausedJob = await startedJob();
    expect(await service.command('pause', { jobId: pausedJob })).toMatchObject({ ok: true, status: 'paused' });
    const cancelledJob = await startedJob();
    expect(await service.command('cancel', { jobId: cancelledJob })).toMatchObject({ ok: true, status: 'cancelled' });
  });
});

describe('checkpoints', () => {
  it("keeps the last checkpoint in the history's state, across a shutdown and a restart", async () => {
    const jobId = await startedJob();
    await service.command('claim', { jobId, executor: 'worker-a' });
    await service.command('progress', { jobId, executor: 'worker-a', processed: 10, total: 40, checkpoint: { line: 10, file: 'c.csv' } });
    await service.command('progress', { jobId, executor: 'worker-a', processed: 20 });
    await service.command('shutdown', { jobId, executor: 'worker-a', reason: 'SIGTERM' });
    const restarted = await service.command('start', { jobId });
    const history = await service.query('history', { jobId, minPosition: restarted.position });
    expect(history.state).toMatchObject({ status: 'running', executor: null, processed: 20, checkpoint: { line: 10, file: 'c.csv' } });
    expect(history.events.filter((event: any) => event.type === 'ProgressReported').map((event: any) => event.data)).toEqual([
      { processed: 10, total: 40, checkpoint: { line: 10, file: 'c.csv' } },
      { processed: 20 },
    ]);
    // The job list does not carry it.
    expect(await get(jobId, restarted.position)).not.toHaveProperty('checkpoint');
  });

  it('is null in the history of a job that never reported one, and refused over 64 KiB', async () => {
    const jobId = await startedJob();
    const history = await service.query('history', { jobId, minPosition: await service.lastSequence() });
    expect(history.state).toMatchObject({ checkpoint: null });
    const before = await service.lastSequence();
    expect(await service.command('progress', { jobId, processed: 1, checkpoint: 'x'.repeat(70_000) })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', issues: [{ path: 'checkpoint', message: expect.stringContaining('at most 65536 bytes') }] },
    });
    expect(await service.lastSequence()).toBe(before);
  });
});
