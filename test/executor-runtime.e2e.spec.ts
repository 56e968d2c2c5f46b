import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobsClient } from '#client';
import type { JobStatus } from '#contracts';
import { startExecutor, type Executor, type ExecutorOptions, type JobHandler } from '#executor';
import { startTestService, type TestService } from '#testing/service';
import { TEST_NATS_URL } from '#testing/nats';
import { spawnExecutorChild, type ExecutorChild } from './fixtures/executor-child.js';
import { untilJob } from '#testing/polling';

/**
 * The executor runtime against the real service over NATS: claims (three executors, thirty jobs,
 * each run once), Pause and Start resuming from the checkpoint (with the Pause-to-signal latency),
 * SIGTERM of an executor process, and SIGKILL of one noticed by its lease. The child executors run
 * from dist/ (`npx tsc -b tsconfig.build.json`).
 */
let service: TestService;
let client: JobsClient;
const executors: Executor[] = [];
const children: ExecutorChild[] = [];

beforeAll(async () => {
  service = await startTestService('executor-runtime', { sides: ['commands', 'queries'], env: { JOBS_LEASE_CHECK_MS: '200' } });
  client = new JobsClient(service.nc, { subjectPrefix: service.config.subjectPrefix, stream: service.config.stream });
});

afterEach(async () => {
  await Promise.all(executors.splice(0).map((executor) => executor.stop()));
  for (const child of children.splice(0)) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
});

afterAll(async () => {
  await service?.close();
});

async function executor(options: Partial<ExecutorOptions> & Pick<ExecutorOptions, 'handlers'>): Promise<Executor> {
  const started = await startExecutor({
    nats: { servers: TEST_NATS_URL, subjectPrefix: service.config.subjectPrefix, stream: service.config.stream },
    scanIntervalMs: 500,
    logger: () => undefined,
    ...options,
  });
  executors.push(started);
  return started;
}

/** An executor process of its own, running a job just created and started with `label`. */
async function childRunning(executorId: string, leaseMs: number, label: string) {
  const child = spawnExecutorChild({
    natsUrl: TEST_NATS_URL,
    subjectPrefix: service.config.subjectPrefix,
    stream: service.config.stream,
    executorId,
    leaseMs,
  });
  children.push(child);
  await child.waitFor(/^ready$/);
  const jobId = await createAndStart(label);
  await child.waitFor(new RegExp(`^running ${jobId}$`));
  return { child, jobId };
}

async function createAndStart(label: string): Promise<string> {
  const { jobId } = await client.create({ label, kind: 'import', actor: 'alice' });
  await client.start({ jobId, actor: 'alice' });
  return jobId;
}

async function untilStatus(jobId: string, status: JobStatus, timeoutMs = 20_000): Promise<void> {
  await untilJob(
    jobId,
    async () => (await client.get({ jobId })).job,
    (job) => job.status === status,
    status,
    timeoutMs,
  );
}

async function lastEvent(jobId: string) {
  const { events } = await service.storedJob(jobId);
  return events.at(-1)!;
}

/** A handler that finishes at once; `runs` lists where each run started from. */
function resumingHandler() {
  const runs: { jobId: string; checkpoint: unknown; processed: number }[] = [];
  const handler: JobHandler = async (job) => {
    runs.push({ jobId: job.jobId, checkpoint: job.checkpoint, processed: job.processed });
    return { processed: job.processed + 1 };
  };
  return { runs, handler };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('executor runtime (e2e)', () => {
  it('three executors and 30 started jobs: each job is claimed once and its handler runs once', async () => {
    const calls = new Map<string, string[]>();
    const handlerOf =
      (name: string): JobHandler =>
      async (job, context) => {
        calls.set(job.jobId, [...(calls.get(job.jobId) ?? []), name]);
        for (let i = 1; i <= 5; i++) {
          context.progress(i, 5);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return { processed: 5, total: 5 };
      };
    await Promise.all(['e1', 'e2', 'e3'].map((name) => executor({ executorId: `runtime-${name}`, handlers: { import: handlerOf(name) } })));
    const jobIds = await Promise.all(Array.from({ length: 30 }, (_, i) => createAndStart(`job ${i}`)));
    for (const jobId of jobIds) await untilStatus(jobId, 'finished', 60_000);
    for (const jobId of jobIds) {
      expect(calls.get(jobId)).toHaveLength(1);
      const { events } = await service.storedJob(jobId);
      expect(events.filter((event) => event.type === 'Claimed')).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: 'Finished', data: { processed: 5, total: 5 } });
    }
    // Spread over the executors, not all on one.
    expect(new Set([...calls.values()].flat()).size).toBeGreaterThan(1);
  }, 120_000);

  it('Pause reaches the running handler, Paused follows, and Start resumes from the checkpoint; Pause-to-signal latency over 24 pauses', async () => {
    // The handler hands over when its signal fired, wrapped: a promise resolved with a promise would wait for it.
    let running: ((run: { stopped: Promise<number> }) => void) | null = null;
    const checkpoints: unknown[] = [];
    await executor({
      executorId: 'runtime-pause',
      concurrency: 1,
      handlers: {
        import: async (job, context) => {
          checkpoints.push(job.checkpoint);
          const run = ((job.checkpoint as { run?: number } | null)?.run ?? 0) + 1;
          await context.checkpoint({ run }, run);
          const stopped = new Promise<number>((resolve) =>
            context.signal.addEventListener('abort', () => resolve(performance.now()), { once: true }),
          );
          running?.({ stopped });
          await stopped;
          return undefined;
        },
      },
    });
    const { jobId } = await client.create({ label: 'paused and resumed', kind: 'import', actor: 'alice' });
    const latencies: number[] = [];
    for (let round = 0; round < 24; round++) {
      const handlerRuns = new Promise<{ stopped: Promise<number> }>((resolve) => {
        running = resolve;
      });
      await client.start({ jobId, actor: 'alice' });
      const { stopped } = await handlerRuns;
      const sent = performance.now();
      await client.pause({ jobId, actor: 'alice' });
      latencies.push((await stopped) - sent);
      await untilStatus(jobId, 'paused');
    }
    expect(checkpoints).toEqual([null, ...Array.from({ length: 23 }, (_, i) => ({ run: i + 1 }))]);
    expect((await client.get({ jobId })).job).toMatchObject({ status: 'paused', processed: 24, executor: null });
    const sorted = latencies.toSorted((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    console.log(`Pause-to-signal latency over ${sorted.length} pauses: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    // The goal is 200 ms at p99; a shared test machine gets a wide margin.
    expect(p99).toBeLessThan(2_000);
  }, 120_000);

  it('SIGTERM: the executor process moves its job to server_shutdown saying why, and Start resumes it on another executor from the checkpoint', async () => {
    const { child, jobId } = await childRunning('runtime-child-term', 15_000, 'stopped by SIGTERM');
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    const { job } = await client.get({ jobId, minPosition: await service.lastSequence() });
    expect(job).toMatchObject({ status: 'server_shutdown', executor: null, processed: 5 });
    expect(await lastEvent(jobId)).toMatchObject({
      type: 'ServerShutdown',
      data: { reason: 'executor runtime-child-term stopped (SIGTERM)' },
    });

    const { runs, handler } = resumingHandler();
    await executor({ executorId: 'runtime-after-term', handlers: { import: handler } });
    await client.start({ jobId, actor: 'alice' });
    await untilStatus(jobId, 'finished');
    // The child's handler saved {run: 1}; this executor ran the job from there.
    expect(runs).toEqual([{ jobId, checkpoint: { run: 1 }, processed: 5 }]);
  }, 60_000);

  it('SIGKILL: the lease expires, the job moves to server_shutdown saying so, and Start resumes it elsewhere from the checkpoint', async () => {
    const { child, jobId } = await childRunning('runtime-child-kill', 1_500, 'killed with SIGKILL');
    child.process.kill('SIGKILL');
    await child.exited;
    await untilStatus(jobId, 'server_shutdown', 20_000);
    expect(await lastEvent(jobId)).toMatchObject({
      type: 'ServerShutdown',
      data: { reason: expect.stringMatching(/^executor runtime-child-kill stopped renewing its lease/) },
    });

    const { runs, handler } = resumingHandler();
    await executor({ executorId: 'runtime-after-kill', handlers: { import: handler } });
    await client.start({ jobId, actor: 'alice' });
    await untilStatus(jobId, 'finished');
    expect(runs).toEqual([{ jobId, checkpoint: { run: 1 }, processed: 5 }]);
  }, 60_000);
});
