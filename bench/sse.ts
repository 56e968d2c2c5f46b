import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  describeCpu,
  measured,
  merge,
  printTable,
  sleep,
  startServices,
  summarize,
  warnAboutSteal,
  withProcessCpu,
  type Measurement,
} from './bench-support.js';
import { startHttpApiProcess, type RunningHttpApi } from './http-api.js';
import { LIFECYCLE, LIFECYCLE_FINAL_STATUS, serviceCommands } from './lifecycle.js';

/**
 * The sse part of `npm run bench`: the write side's lifecycle on BENCH_SSE_JOBS concurrent jobs
 * through the job service (its own process), with BENCH_SSE_CLIENTS clients of
 * `GET /api/v1/events` open on the HTTP API (its own process) and with none, alternating for
 * BENCH_SSE_ROUNDS rounds of BENCH_SSE_SECONDS. After each round with clients, every client must
 * have received every job of the round in its final status.
 */
const CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 200);
const JOBS = Number(process.env.BENCH_SSE_JOBS ?? 16);
const SECONDS = Number(process.env.BENCH_SSE_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_SSE_ROUNDS ?? 4);
/** How long the clients may take, after the round's last command, to receive the final states. */
const SETTLE_MS = 120_000;

/**
 * The clients, on a thread of their own (bench/sse-clients.ts): their reading shares the machine's
 * cores with the rest, as it must, but not the event loop of the bench's command loops, which it
 * slowed down by itself (that loop's p99 delay went from 19 to 53 ms with them in it).
 */
class ClientsThread {
  private readonly worker: Worker;
  readonly connected: Promise<unknown>;

  constructor(api: RunningHttpApi, count: number) {
    this.worker = new Worker(new URL('./sse-clients.js', import.meta.url), {
      workerData: { url: `${api.url}api/v1/events`, token: api.token, count },
    });
    this.connected = this.reply('connected');
  }

  /** The (client, job) pairs whose last message is not in `status`, and the messages received so far. */
  async count(jobIds: readonly string[], status: string): Promise<{ missing: number; messages: number }> {
    const reply = this.reply<{ missing: number; messages: number }>('count');
    this.worker.postMessage({ jobIds, status });
    return await reply;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private reply<T>(type: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; message?: string }) => {
        if (message.type !== type && message.type !== 'failed') return;
        this.worker.off('message', onMessage);
        if (message.type === 'failed') reject(new Error(message.message));
        else resolve(message as T);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
    });
  }
}

export async function benchSse(nc: NatsConnection, natsUrl: string, id: string): Promise<void> {
  const prefix = `${id}.sse`;
  const stream = `${id}_SSE`.toUpperCase();
  const dataDir = mkdtempSync(path.join(tmpdir(), `${id}-sse-`));
  console.log(
    `\nsse: ${JOBS} concurrent jobs (${LIFECYCLE.length + 1} commands each), ${ROUNDS} rounds of ${SECONDS} s with ${CLIENTS} SSE clients and with none`,
  );
  const services = await startServices({ NATS_URL: natsUrl, JOBS_SUBJECT_PREFIX: prefix, JOBS_STREAM: stream, DATA_DIR: dataDir });
  let api: RunningHttpApi | undefined;
  const none: Measurement[] = [];
  const open: Measurement[] = [];
  const settles: number[] = [];
  try {
    const running = await startHttpApiProcess(natsUrl, prefix, stream);
    api = running;
    const commands = (round: string, onJob?: (jobId: string) => void) =>
      serviceCommands(nc, prefix, round, { jobs: JOBS, seconds: SECONDS, onJob });
    await serviceCommands(nc, prefix, 'warmup', { jobs: JOBS, seconds: 2 });
    /** A round with the clients open, then how long they took to get every job's final status. */
    const withClientsOpen = async (round: number) => {
      const clients = new ClientsThread(running, CLIENTS);
      try {
        await clients.connected;
        const jobIds: string[] = [];
        const measurement = await withProcessCpu(() => measured(() => commands(`open${round}`, (jobId) => jobIds.push(jobId))));
        const ended = performance.now();
        let { missing, messages } = await clients.count(jobIds, LIFECYCLE_FINAL_STATUS);
        while (missing > 0 && performance.now() - ended < SETTLE_MS) {
          await sleep(50);
          ({ missing, messages } = await clients.count(jobIds, LIFECYCLE_FINAL_STATUS));
        }
        const settle = performance.now() - ended;
        if (missing > 0) {
          throw new Error(
            `${missing} of ${CLIENTS * jobIds.length} (client, job) pairs still lack the final status ${SETTLE_MS / 1000} s after the round`,
          );
        }
        return { ...measurement, jobIds, messages, settle };
      } finally {
        await clients.close();
      }
    };
    const withoutClients = (round: number) => withProcessCpu(() => measured(() => commands(`none${round}`)));
    for (let round = 0; round < ROUNDS; round++) {
      // Every other round measures with clients first: a drift of the machine's speed during the run
      // then favours neither side (the rounds' rates without clients varied by up to 40%).
      const clientsFirst = round % 2 === 1;
      const withoutFirst = clientsFirst ? undefined : await withoutClients(round);
      const withClients = await withClientsOpen(round);
      const without = withoutFirst ?? (await withoutClients(round));
      const { jobIds, messages, settle } = withClients;
      none.push(without.result);
      open.push(withClients.result);
      settles.push(settle);
      const [w, o] = [summarize(without.result), summarize(withClients.result)];
      console.log(
        `round ${round + 1}${clientsFirst ? ' (clients first)' : ''}: no clients ${w.perSecond.toFixed(0)} commands/s (steal ${w.steal.toFixed(0)}%), ` +
          `${CLIENTS} clients ${o.perSecond.toFixed(0)} commands/s (steal ${o.steal.toFixed(0)}%), ratio ${(o.perSecond / w.perSecond).toFixed(2)}; ` +
          `every client had the final status of all ${jobIds.length} jobs ${settle.toFixed(0)} ms after the last command (${messages} messages)`,
      );
      // Where the cores went: the bench process holds the clients' thread, so its rise with them is their reading.
      console.log(`  CPU cores used, no clients: ${describeCpu(without.cpu, without.result.seconds)}`);
      console.log(`  CPU cores used, ${CLIENTS} clients: ${describeCpu(withClients.cpu, withClients.result.seconds)}`);
    }
  } finally {
    await api?.stop();
    await services.stop();
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const [w, o] = [summarize(merge(none)), summarize(merge(open))];
  printTable([
    { measure: 'commands, no SSE client', 'commands/s': w.perSecond, 'p50 ms': w.p50, 'p99 ms': w.p99, 'steal %': w.steal },
    { measure: `commands, ${CLIENTS} SSE clients`, 'commands/s': o.perSecond, 'p50 ms': o.p50, 'p99 ms': o.p99, 'steal %': o.steal },
  ]);
  warnAboutSteal(
    'the SSE comparison',
    [...none, ...open].map((m) => m.cpu),
  );
  console.log(
    `command rate ratio, ${CLIENTS} SSE clients / none: ${(o.perSecond / w.perSecond).toFixed(2)} (goal >= 0.8); ` +
      `final states received within ${Math.max(...settles).toFixed(0)} ms of the last command`,
  );
}
