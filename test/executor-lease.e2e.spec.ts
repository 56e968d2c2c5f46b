import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobSubjects } from '#contracts';
import { startTestService, type TestService } from '#testing/service';
import { untilJob } from '#testing/polling';

const LEASE_MS = 1_500;
const CHECK_MS = 200;

let service: TestService;

beforeAll(async () => {
  service = await startTestService('executor-lease', { sides: ['commands', 'queries'], env: { JOBS_LEASE_CHECK_MS: String(CHECK_MS) } });
});

afterAll(async () => {
  await service?.close();
});

/** A fake executor over plain NATS: it claims a job and publishes its heartbeats until told to stop. */
function heartbeats(executor: string, jobs: string[]): { stop(): void } {
  const subject = jobSubjects(service.config.subjectPrefix).executorHeartbeat(executor);
  const beat = () =>
    service.nc.publish(subject, JSON.stringify({ executor, kinds: ['import'], jobs, leaseMs: LEASE_MS, at: new Date().toISOString() }));
  beat();
  const timer = setInterval(beat, LEASE_MS / 3);
  return { stop: () => clearInterval(timer) };
}

/** The job as `get` shows it, once the read side has everything stored so far. */
async function get(jobId: string): Promise<any> {
  const reply = await service.query('get', { jobId, minPosition: await service.lastSequence() });
  expect(reply).toMatchObject({ ok: true });
  return reply.job;
}

/** The job once it is in server shutdown: within a lease and a check, plus room for a loaded machine. */
function untilShutDown(jobId: string): Promise<any> {
  return untilJob(
    jobId,
    () => get(jobId),
    (job) => job.status === 'server_shutdown',
    'server_shutdown',
    LEASE_MS + CHECK_MS + 10_000,
  );
}

describe('executor leases', () => {
  it('keep a job while its executor heartbeats; once it stops, the job moves to server shutdown with the reason, and Start frees it', async () => {
    const jobId = 'leased-1';
    await service.command('create', { jobId, label: 'Contacts import', kind: 'import' });
    await service.command('start', { jobId });
    const beating = heartbeats('worker-1', [jobId]);
    const claimed = await service.command('claim.as.worker-1', { jobId, executor: 'worker-1', leaseMs: LEASE_MS });
    expect(claimed).toMatchObject({ ok: true, status: 'running' });

    // Three leases long, heartbeats keep it.
    await sleep(3 * LEASE_MS);
    expect(await get(jobId)).toMatchObject({ status: 'running', executor: 'worker-1', version: claimed.version });

    beating.stop();
    const stoppedAt = Date.now();
    const shutDown = await untilShutDown(jobId);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(LEASE_MS - CHECK_MS);
    expect(shutDown).toMatchObject({ executor: null, warning: true });
    const { events } = await service.storedJob(jobId);
    const shutdowns = events.filter((event) => event.type === 'ServerShutdown');
    expect(shutdowns).toMatchObject([
      {
        actor: 'lease-monitor',
        commandId: `lease-expired:${jobId}:${claimed.version}`,
        data: { reason: expect.stringMatching(/^executor worker-1 stopped renewing its lease: last heard \d+ s ago$/) },
      },
    ]);
    const logs = await service.query('logs', { jobId, minPosition: await service.lastSequence() });
    expect(logs.items.at(-1)).toMatchObject({
      level: 'warning',
      message: expect.stringMatching(
        /^Server shutdown reported by lease-monitor \(executor worker-1 stopped renewing its lease: last heard \d+ s ago\): Server shutdown in progress$/,
      ),
    });

    // The executor that comes back late is fenced off.
    expect(await service.command('progress', { jobId, executor: 'worker-1', processed: 1 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_TRANSITION', status: 'server_shutdown' },
    });
    const restarted = await service.command('start', { jobId });
    expect(restarted).toMatchObject({ ok: true, status: 'running' });
    expect(await get(jobId)).toMatchObject({ status: 'running', executor: null });
    expect(await service.command('finish', { jobId, executor: 'worker-1' })).toMatchObject({
      ok: false,
      error: { code: 'JOB_CLAIMED', executor: null },
    });
  });

  it('shuts a job down once, however many instances watch its lease, one of them started after the claim', async () => {
    const jobId = 'leased-2';
    await service.command('create', { jobId, label: 'Contacts export', kind: 'export' });
    await service.command('start', { jobId });
    const claimed = await service.command('claim', { jobId, executor: 'worker-2', leaseMs: LEASE_MS });
    expect(claimed).toMatchObject({ ok: true });
    // A second instance starts after the claim: it learns it from the read side's list.
    await service.startInstance();
    await untilShutDown(jobId);
    const { events } = await service.storedJob(jobId);
    // Both monitors see it expire: the job is shut down once.
    await sleep(LEASE_MS);
    expect((await service.storedJob(jobId)).events.filter((event) => event.type === 'ServerShutdown')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'ServerShutdown', actor: 'lease-monitor' });
  });

  it('ignores malformed heartbeats', async () => {
    const prefix = service.config.subjectPrefix;
    service.nc.publish(`${prefix}.executors.heartbeat.worker-9`, 'not json');
    service.nc.publish(
      `${prefix}.executors.heartbeat.worker-9`,
      JSON.stringify({ executor: 'worker-8', kinds: [], jobs: [], leaseMs: 1_000, at: 'now' }),
    );
    service.nc.publish(`${prefix}.executors.heartbeat.worker-9`, JSON.stringify({ executor: 'worker-9', leaseMs: -1 }));
    await service.nc.flush();
    // The service still answers and still expires leases.
    const jobId = 'leased-3';
    await service.command('create', { jobId, label: 'Contacts import', kind: 'import' });
    await service.command('start', { jobId });
    expect(await service.command('claim', { jobId, executor: 'worker-9', leaseMs: LEASE_MS })).toMatchObject({ ok: true });
    await untilShutDown(jobId);
  });
});
