import { afterEach, describe, expect, it } from 'vitest';
import { MAX_REJECTS_PER_COMMAND, type JobEvent, type JobKind } from '#contracts';
import { startExecutor, type Executor, type ExecutorOptions } from './executor.js';
import type { ExecutorConnection } from './executor-connection.js';
import { InMemoryJobs } from './in-memory-jobs.js';
import { ExecutorStop, type ExecutorJob, type JobContext, type JobHandler } from './job-handler.js';
import { stopOnSignals } from './signals.js';

const started: Executor[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((executor) => executor.stop()));
});

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function startJob(jobs: InMemoryJobs, jobId: string, options: { kind?: JobKind; maxRejects?: number | null } = {}): void {
  const rejectPolicy = options.maxRejects === undefined ? {} : { rejectPolicy: { maxRejects: options.maxRejects } };
  expect(
    jobs.command('create', {
      jobId,
      label: `job ${jobId}`,
      kind: options.kind ?? 'import',
      definition: { file: `${jobId}.csv` },
      ...rejectPolicy,
    }).ok,
  ).toBe(true);
  expect(jobs.command('start', { jobId }).ok).toBe(true);
}

async function executorOn(jobs: InMemoryJobs, handler: JobHandler, options: Partial<ExecutorOptions> = {}): Promise<Executor> {
  const executor = await startExecutor({
    connection: jobs.connection(),
    executorId: 'e1',
    handlers: { import: handler },
    scanIntervalMs: 20,
    logger: () => undefined,
    ...options,
  });
  started.push(executor);
  return executor;
}

/** A handler that waits for its signal, and hands over its job and context. */
function waitingHandler() {
  const calls: { job: ExecutorJob; context: JobContext }[] = [];
  const handler: JobHandler = (job, context) => {
    calls.push({ job, context });
    return new Promise((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true }));
  };
  return { calls, handler };
}

const types = (events: JobEvent[]) => events.map((event) => event.type);
const stopReason = (context: JobContext) => (context.signal.reason as ExecutorStop).reason;

describe('executor runtime (in-memory jobs)', () => {
  it('runs a started job once: its definition in, finished with the counts the handler returns', async () => {
    const jobs = new InMemoryJobs();
    const seen: ExecutorJob[] = [];
    await executorOn(jobs, async (job) => {
      seen.push(job);
      return { processed: 10, total: 10 };
    });
    startJob(jobs, 'a');
    await until(() => jobs.job('a')?.status === 'finished', 'the job to finish');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ jobId: 'a', kind: 'import', definition: { file: 'a.csv' }, checkpoint: null, processed: 0 });
    expect(types(jobs.eventsOf('a'))).toEqual(['Created', 'Started', 'Claimed', 'Finished']);
    expect(jobs.job('a')).toMatchObject({ processed: 10, total: 10, executor: null });
  });

  it('fails the job with the error the handler throws, its code included', async () => {
    const jobs = new InMemoryJobs();
    await executorOn(jobs, async () => {
      throw Object.assign(new Error('the file has no header row'), { code: 'NO_HEADER' });
    });
    startJob(jobs, 'a');
    await until(() => jobs.job('a')?.status === 'finished_with_error', 'the job to fail');
    expect(jobs.job('a')!.lastError).toEqual({ message: 'the file has no header row', code: 'NO_HEADER' });
  });

  it('takes a job started before it, and leaves jobs of kinds it has no handler for', async () => {
    const jobs = new InMemoryJobs();
    startJob(jobs, 'before');
    startJob(jobs, 'export', { kind: 'export' });
    await executorOn(jobs, async () => ({}));
    await until(() => jobs.job('before')?.status === 'finished', 'the earlier job to finish');
    expect(jobs.job('export')).toMatchObject({ status: 'running', executor: null });
  });

  it('Pause fires the signal with "pause" and is confirmed with mark-paused; Cancel the same with mark-cancelled', async () => {
    const jobs = new InMemoryJobs();
    const { calls, handler } = waitingHandler();
    await executorOn(jobs, handler);
    startJob(jobs, 'p');
    startJob(jobs, 'c');
    await until(() => calls.length === 2, 'both handlers to run');
    jobs.command('pause', { jobId: 'p' });
    jobs.command('cancel', { jobId: 'c' });
    await until(() => jobs.job('p')?.status === 'paused' && jobs.job('c')?.status === 'cancelled', 'pause and cancel to be confirmed');
    const byJob = Object.fromEntries(calls.map((call) => [call.job.jobId, call.context]));
    expect(stopReason(byJob.p!)).toBe('pause');
    expect(stopReason(byJob.c!)).toBe('cancel');
    expect(types(jobs.eventsOf('p')).slice(-2)).toEqual(['PauseRequested', 'Paused']);
    expect(types(jobs.eventsOf('c')).slice(-2)).toEqual(['CancellationRequested', 'Cancelled']);
  });

  it('hands the last checkpoint and counts to the next run of the job', async () => {
    const jobs = new InMemoryJobs();
    const runs: ExecutorJob[] = [];
    await executorOn(jobs, async (job, context) => {
      runs.push(job);
      if (runs.length === 1) {
        await context.checkpoint({ line: 42 }, 42, 100);
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        return undefined;
      }
      return { processed: 100 };
    });
    startJob(jobs, 'a');
    await until(() => jobs.job('a')?.checkpoint !== null, 'the checkpoint');
    jobs.command('pause', { jobId: 'a' });
    await until(() => jobs.job('a')?.status === 'paused', 'the pause');
    jobs.command('start', { jobId: 'a' });
    await until(() => jobs.job('a')?.status === 'finished', 'the second run to finish');
    expect(runs[1]).toMatchObject({ checkpoint: { line: 42 }, processed: 42, total: 100 });
  });

  it('stop() fires "shutdown", moves the jobs held to server_shutdown with its reason, and answers itself for a handler past the grace period', async () => {
    const jobs = new InMemoryJobs();
    const contexts: JobContext[] = [];
    let releaseStubborn!: () => void;
    const stubborn = new Promise<void>((resolve) => {
      releaseStubborn = resolve;
    });
    const executor = await executorOn(
      jobs,
      async (job, context) => {
        contexts.push(context);
        if (job.jobId === 'stubborn') await stubborn;
        else await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        return undefined;
      },
      { shutdownGraceMs: 100 },
    );
    startJob(jobs, 'polite');
    startJob(jobs, 'stubborn');
    await until(() => executor.jobs.length === 2, 'both jobs to run');
    await executor.stop('SIGTERM');
    for (const jobId of ['polite', 'stubborn']) {
      expect(jobs.job(jobId)!.status).toBe('server_shutdown');
      expect(jobs.eventsOf(jobId).at(-1)).toMatchObject({ type: 'ServerShutdown', data: { reason: 'executor e1 stopped (SIGTERM)' } });
    }
    expect(contexts.map(stopReason)).toEqual(['shutdown', 'shutdown']);
    const before = jobs.events.length;
    releaseStubborn();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(jobs.events.length).toBe(before);
  });

  it('stop() during a claim in flight answers for the job once the claim goes through', async () => {
    const jobs = new InMemoryJobs();
    const base = jobs.connection();
    let claimSent = false;
    let releaseClaim!: () => void;
    const claimHeld = new Promise<void>((resolve) => {
      releaseClaim = resolve;
    });
    const slowClaim: ExecutorConnection = {
      ...base,
      send: async (name, body) => {
        if (name === 'claim') {
          claimSent = true;
          await claimHeld;
        }
        return base.send(name, body);
      },
    };
    const executor = await executorOn(jobs, waitingHandler().handler, { connection: slowClaim });
    startJob(jobs, 'a');
    await until(() => claimSent, 'the claim to be sent');
    const stopping = executor.stop('SIGTERM');
    setTimeout(releaseClaim, 50);
    await stopping;
    expect(jobs.job('a')).toMatchObject({ status: 'server_shutdown', executor: null });
    expect(jobs.eventsOf('a').at(-1)).toMatchObject({ type: 'ServerShutdown', data: { reason: 'executor e1 stopped (SIGTERM)' } });
  });

  it('at start, shuts down the jobs an earlier process with the same executor id left behind', async () => {
    const jobs = new InMemoryJobs();
    startJob(jobs, 'left');
    expect(jobs.command('claim', { jobId: 'left', executor: 'e1' }).ok).toBe(true);
    startJob(jobs, 'other');
    expect(jobs.command('claim', { jobId: 'other', executor: 'e2' }).ok).toBe(true);
    await executorOn(jobs, async () => ({}));
    expect(jobs.job('left')!.status).toBe('server_shutdown');
    expect(jobs.eventsOf('left').at(-1)).toMatchObject({
      type: 'ServerShutdown',
      data: { reason: 'executor e1 started again: the run it held before was lost' },
    });
    expect(jobs.job('other')).toMatchObject({ status: 'running', executor: 'e2' });
  });

  it('shuts down a job it holds whose run ended without reaching the service', async () => {
    const jobs = new InMemoryJobs();
    const base = jobs.connection();
    // The finish never reaches the service.
    const lossy: ExecutorConnection = {
      ...base,
      send: async (name, body) =>
        name === 'finish' ? { ok: false, error: { code: 'TIMEOUT', message: 'no reply' } } : base.send(name, body),
    };
    await executorOn(jobs, async () => ({ processed: 1 }), { connection: lossy });
    startJob(jobs, 'a');
    await until(() => jobs.job('a')?.status === 'server_shutdown', 'the job held by no run to be shut down');
    expect(jobs.eventsOf('a').at(-1)).toMatchObject({
      type: 'ServerShutdown',
      data: { reason: 'executor e1 lost its run of the job: the run ended without reaching the service' },
    });
  });

  it('sends at most a few progress events for 10,000 progress calls, the last value always', async () => {
    const jobs = new InMemoryJobs();
    await executorOn(jobs, async (_job, context) => {
      for (let i = 1; i <= 10_000; i++) context.progress(i, 10_000);
      return undefined;
    });
    startJob(jobs, 'a');
    await until(() => jobs.job('a')?.status === 'finished', 'the job to finish');
    const progress = jobs.eventsOf('a').filter((event) => event.type === 'ProgressReported');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(2);
    expect(progress.at(-1)!.data).toEqual({ processed: 10_000, total: 10_000 });
  });

  it('splits rejects by count and by size, records keyed ones once, and cuts a record too large for any command', async () => {
    const jobs = new InMemoryJobs();
    const small = Array.from({ length: 2_500 }, (_, i) => ({ line: i + 1, reason: 'bad email', record: { email: `x${i}` } }));
    const large = Array.from({ length: 12 }, (_, i) => ({ line: i + 1, reason: 'too long', record: 'x'.repeat(30_000) }));
    const huge = [{ line: 1, reason: 'huge', record: { text: 'y'.repeat(300_000) } }];
    await executorOn(jobs, async (_job, context) => {
      await context.reject(small, { key: 'batch-1' });
      // A resumed run sending the same batch again.
      await context.reject(small, { key: 'batch-1' });
      await context.reject(large);
      await context.reject(huge);
      return undefined;
    });
    startJob(jobs, 'a', { maxRejects: null });
    await until(() => jobs.job('a')?.status === 'finished', 'the job to finish');
    const batches = jobs.eventsOf('a').flatMap((event) => (event.type === 'RecordsRejected' ? [event.data.records] : []));
    expect(batches.slice(0, 3).map((records) => records.length)).toEqual([MAX_REJECTS_PER_COMMAND, MAX_REJECTS_PER_COMMAND, 500]);
    expect(batches.slice(3, -1).reduce((sum, records) => sum + records.length, 0)).toBe(12);
    expect(batches.slice(3, -1).length).toBeGreaterThan(1);
    const cut = batches.at(-1)![0]!;
    expect(cut.reason).toMatch(/^huge \(record cut to fit the payload limit/);
    expect(typeof cut.record).toBe('string');
    expect(jobs.job('a')!.rejected).toBe(2_500 + 12 + 1);
  });

  it('takes keyed rejects a run of another executor recorded (COMMAND_ID_REUSED: its command named that executor) as recorded', async () => {
    const jobs = new InMemoryJobs();
    const base = jobs.connection();
    // The service's answer to a key sent again from another executor: the same command id, another body.
    const connection: ExecutorConnection = {
      ...base,
      send: async (name, body) =>
        name === 'reject' && body.commandId === 'lines:2-3:0'
          ? { ok: false, error: { code: 'COMMAND_ID_REUSED', message: 'commandId "lines:2-3:0" was already used for another command' } }
          : base.send(name, body),
    };
    await executorOn(
      jobs,
      async (_job, context) => {
        await context.reject([{ line: 2, reason: 'bad email', record: { email: 'x' } }], { key: 'lines:2-3' });
        await context.reject([{ line: 5, reason: 'bad email', record: { email: 'y' } }], { key: 'lines:4-5' });
        return { processed: 5 };
      },
      { connection },
    );
    startJob(jobs, 'a');
    await until(() => jobs.job('a')?.status === 'finished', 'the job to finish');
    expect(jobs.job('a')!.rejected).toBe(1);
  });

  it('ends the run with "ended" when rejects pass the limit, and sends nothing more', async () => {
    const jobs = new InMemoryJobs();
    let context!: JobContext;
    await executorOn(jobs, async (_job, given) => {
      context = given;
      await context.reject(Array.from({ length: 6 }, (_, i) => ({ line: i + 1, reason: 'bad', record: i })));
      expect(context.signal.aborted).toBe(true);
      context.progress(6);
      return { processed: 6 };
    });
    startJob(jobs, 'a', { maxRejects: 5 });
    await until(() => jobs.job('a')?.status === 'finished_with_error', 'the reject limit');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stopReason(context)).toBe('ended');
    expect(types(jobs.eventsOf('a')).slice(-2)).toEqual(['RecordsRejected', 'Errored']);
  });

  it('a JOB_CLAIMED reply ends the run: the handler gets "ended" and the new holder is left alone', async () => {
    const jobs = new InMemoryJobs();
    // No event feed: the run learns it lost the job from the reply to its own command.
    const deaf: ExecutorConnection = {
      ...jobs.connection(),
      followEvents: (_after, signal) => ({
        async *[Symbol.asyncIterator]() {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        },
      }),
    };
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => {
      proceed = resolve;
    });
    let outcome: unknown;
    let context!: JobContext;
    await executorOn(
      jobs,
      async (_job, given) => {
        context = given;
        await gate;
        outcome = await context.checkpoint({ line: 7 }, 7).catch((error) => error);
        throw outcome;
      },
      { connection: deaf },
    );
    startJob(jobs, 'a');
    await until(() => jobs.job('a')?.executor === 'e1', 'the claim');
    // The lease monitor's shutdown, a restart, and another executor's claim.
    jobs.command('shutdown', { jobId: 'a', reason: 'lease expired' });
    jobs.command('start', { jobId: 'a' });
    jobs.command('claim', { jobId: 'a', executor: 'e2' });
    const before = jobs.eventsOf('a').length;
    proceed();
    await until(() => outcome !== undefined, 'the checkpoint to be refused');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(outcome).toBeInstanceOf(ExecutorStop);
    expect(stopReason(context)).toBe('ended');
    expect(jobs.eventsOf('a').length).toBe(before);
    expect(jobs.job('a')).toMatchObject({ status: 'running', executor: 'e2' });
  });

  it('two executors on the same jobs run each start of each job exactly once', async () => {
    const jobs = new InMemoryJobs();
    const calls = new Map<string, number>();
    const handler: JobHandler = async (job) => {
      calls.set(job.jobId, (calls.get(job.jobId) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { processed: 1 };
    };
    await executorOn(jobs, handler, { executorId: 'e1', concurrency: 3 });
    await executorOn(jobs, handler, { executorId: 'e2', concurrency: 3 });
    const ids = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    for (const id of ids) startJob(jobs, id);
    await until(() => ids.every((id) => jobs.job(id)?.status === 'finished'), 'every job to finish');
    expect(ids.map((id) => calls.get(id))).toEqual(ids.map(() => 1));
    for (const id of ids) expect(types(jobs.eventsOf(id)).filter((type) => type === 'Claimed')).toHaveLength(1);
    const claimedBy = new Set(jobs.events.flatMap((event) => (event.type === 'Claimed' ? [event.data.executor] : [])));
    expect(claimedBy).toEqual(new Set(['e1', 'e2']));
  });

  it('heartbeats name the jobs held and the lease', async () => {
    const jobs = new InMemoryJobs();
    const { calls, handler } = waitingHandler();
    await executorOn(jobs, handler, { leaseMs: 1_500 });
    startJob(jobs, 'a');
    await until(() => calls.length === 1, 'the handler to run');
    await until(() => jobs.heartbeats.some((beat) => beat.jobs.includes('a')), 'a heartbeat with the job');
    expect(jobs.heartbeats.at(-1)).toMatchObject({ executor: 'e1', kinds: ['import'], jobs: ['a'], leaseMs: 1_500 });
  });

  it('stopOnSignals: the first signal stops the executor naming it, a second exits at once', async () => {
    const reasons: (string | undefined)[] = [];
    let exits = 0;
    const dispose = stopOnSignals(
      {
        stop: async (reason) => {
          reasons.push(reason);
        },
      },
      { signals: ['SIGUSR2'], exitNow: () => exits++ },
    );
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      expect([reasons, exits]).toEqual([['SIGUSR2'], 0]);
      process.emit('SIGUSR2', 'SIGUSR2');
      expect([reasons, exits]).toEqual([['SIGUSR2'], 1]);
    } finally {
      dispose();
    }
  });
});
