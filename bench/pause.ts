import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { startExecutor, type JobHandler } from '#executor';
import { ask, measured, printTable, request, sleep, startServices, summarize, warnAboutSteal } from './bench-support.js';

/**
 * The pause part of `npm run bench`: how long a Pause takes to reach a running handler. The command
 * and query services run as processes of their own; the executor runs in this process, so that the time Pause is
 * sent and the time the handler's signal fires are read from one clock. Each of BENCH_PAUSES rounds
 * starts the job again, waits until its handler runs, sends `pause` and waits for the executor's mark-paused.
 */
const PAUSES = Number(process.env.BENCH_PAUSES ?? 60);
const EXECUTOR = 'bench-pause-executor';

export async function benchPause(nc: NatsConnection, natsUrl: string, id: string): Promise<void> {
  const prefix = `${id}.pause`;
  const stream = `${id}_PAUSE`.toUpperCase();
  const dataDir = mkdtempSync(path.join(tmpdir(), `${id}-pause-`));
  console.log(`\npause: ${PAUSES} pauses of a running handler (command and query service processes, the executor in the bench's process)`);
  const services = await startServices({ NATS_URL: natsUrl, JOBS_SUBJECT_PREFIX: prefix, JOBS_STREAM: stream, DATA_DIR: dataDir });

  /** The handler's run in progress: it says when it runs, and when its signal fired. */
  let running: ((run: { stopped: Promise<number> }) => void) | null = null;
  const handler: JobHandler = async (_, context) => {
    const stopped = new Promise<number>((resolve) => {
      if (context.signal.aborted) resolve(performance.now());
      else context.signal.addEventListener('abort', () => resolve(performance.now()), { once: true });
    });
    running?.({ stopped });
    await stopped;
    return undefined;
  };
  const executor = await startExecutor({
    nats: { servers: natsUrl, subjectPrefix: prefix, stream },
    executorId: EXECUTOR,
    handlers: { import: handler },
    concurrency: 1,
    // Its warnings only: a bench prints figures.
    logger: (level, message) => {
      if (level !== 'info') console.error(`[executor] ${level}: ${message}`);
    },
  });
  try {
    const { jobId } = await request(nc, `${prefix}.cmd.create`, { label: 'bench pause', kind: 'import', actor: 'bench' });
    const pauseOnce = async (): Promise<number> => {
      const handlerRuns = new Promise<{ stopped: Promise<number> }>((resolve) => {
        running = resolve;
      });
      await request(nc, `${prefix}.cmd.start`, { jobId, actor: 'bench' });
      const { stopped } = await handlerRuns;
      const sent = performance.now();
      await request(nc, `${prefix}.cmd.pause`, { jobId, actor: 'bench' });
      const latency = (await stopped) - sent;
      await untilStatus(nc, prefix, jobId, 'paused');
      return latency;
    };
    // Unmeasured: the first runs load code and open the executor's paths.
    for (let i = 0; i < 5; i++) await pauseOnce();
    const pauses = await measured(async () => {
      const latenciesMs: number[] = [];
      const started = performance.now();
      for (let i = 0; i < PAUSES; i++) latenciesMs.push(await pauseOnce());
      return { name: 'Pause to handler signal', operations: PAUSES, seconds: (performance.now() - started) / 1000, latenciesMs };
    });
    await request(nc, `${prefix}.cmd.cancel`, { jobId, actor: 'bench' });
    const s = summarize(pauses);
    printTable([
      { measure: s.name, pauses: PAUSES, 'p50 ms': s.p50, 'p99 ms': s.p99, max: Math.max(...pauses.latenciesMs), 'steal %': s.steal },
    ]);
    warnAboutSteal('the pauses', [pauses.cpu]);
    console.log(`Pause-to-handler p99: ${s.p99.toFixed(1)} ms (goal < 200 ms)`);
  } finally {
    await executor.stop('bench done');
    await services.stop();
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Waits until the job's summary shows `status` (the executor confirms a pause on its own time). */
async function untilStatus(nc: NatsConnection, prefix: string, jobId: string, status: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const reply = await ask(nc, `${prefix}.query.get`, { jobId });
    if (reply.ok && reply.job.status === status) return;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is not ${status} after 30 s: ${JSON.stringify(reply)}`);
    await sleep(10);
  }
}
