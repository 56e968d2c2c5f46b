import http from 'node:http';
import {
  describeCpu,
  measured,
  pacedRuns,
  percentile,
  printTable,
  summarize,
  timedLoops,
  warnAboutSteal,
  withProcessCpu,
  type Measurement,
  type Timed,
} from './bench-support.js';
import { getJson, startHttpApiProcess } from './http-api.js';
import type { SeededReadSide } from './read-side.js';

/**
 * The http part of `npm run bench`: the HTTP API (its own process, a Bearer token of a users file
 * of its own) in front of the read side's seeded query service. BENCH_HTTP_CLIENTS concurrent
 * clients on kept-alive connections, for BENCH_HTTP_SECONDS each: `GET /api/v1/jobs` in several
 * filter shapes, then a job's page data (the job, its first page of log entries and of rejects,
 * fetched at once as the console does; timed until the last arrives); then each at half the rate
 * the clients reached, started on a clock and timed from when due; then each from one client alone.
 */
const CLIENTS = Number(process.env.BENCH_HTTP_CLIENTS ?? 8);
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const WARMUP_SECONDS = 2;

export async function benchHttp({ natsUrl, prefix, stream, jobs, jobsWithRejects, events }: SeededReadSide): Promise<void> {
  console.log(`\nhttp: ${CLIENTS} clients, ${SECONDS} s a measure, ${jobs} jobs, ${events} events`);
  const api = await startHttpApiProcess(natsUrl, prefix, stream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const base = `${api.url}api/v1/jobs`;
    const get = (url: string) => getJson(agent, url, api.token);
    let n = 0;
    const shapes: [name: string, query: (i: number) => string][] = [
      ['all', () => '?limit=50'],
      ['one status', () => '?status=running&limit=50'],
      ['two statuses', () => '?status=running&status=finished&limit=50'],
      ['kind and creator', (i) => `?kind=export&createdBy=user-${i % 50}&limit=20`],
      ['text', (i) => `?text=${encodeURIComponent(`import ${i % jobs}`)}&limit=20`],
      ['updatedAt asc', () => '?sort=updatedAt&order=asc&limit=50'],
    ];
    /** Each list shape's latencies, while `byShape` is set: which shapes make the tail. */
    let byShape: Map<string, number[]> | undefined;
    const list = async (timed: Timed) => {
      const i = n++;
      const [shape, query] = shapes[i % shapes.length]!;
      const started = performance.now();
      const reply = await timed(() => get(`${base}${query(i)}`));
      if (byShape) {
        const latencies = byShape.get(shape) ?? [];
        latencies.push(performance.now() - started);
        byShape.set(shape, latencies);
      }
      if (!Array.isArray(reply.items)) throw new Error(`GET /api/v1/jobs: no items in ${JSON.stringify(reply).slice(0, 200)}`);
    };
    const page = async (timed: Timed) => {
      // Half the pages are of jobs with rejects.
      const jobId = `bench-${Math.floor(Math.random() * (n++ % 2 ? jobsWithRejects : jobs))}`;
      const [job, logs, rejects] = await timed(() =>
        Promise.all([get(`${base}/${jobId}`), get(`${base}/${jobId}/logs?limit=100`), get(`${base}/${jobId}/rejects?limit=100`)]),
      );
      if (job.job?.jobId !== jobId || !Array.isArray(logs.items) || !Array.isArray(rejects.items)) {
        throw new Error(`the page of ${jobId} is not whole`);
      }
    };
    await timedLoops('warm-up', CLIENTS, WARMUP_SECONDS, async (_, timed) => {
      await list(timed);
      await page(timed);
    });
    byShape = new Map();
    const { result: listReads, cpu: listCpu } = await withProcessCpu(() =>
      measured(() => timedLoops('GET /api/v1/jobs', CLIENTS, SECONDS, (_, timed) => list(timed))),
    );
    const shapeLatencies = byShape;
    byShape = undefined;
    const { result: pageReads, cpu: pageCpu } = await withProcessCpu(() =>
      measured(() => timedLoops("a job's page data (job, logs, rejects)", CLIENTS, SECONDS, (_, timed) => page(timed))),
    );
    // Half the rate the clients reached, started on a clock: the machine's cores are then half busy
    // with this load, as a service is run, instead of saturated by clients that send again at once.
    const listRate = summarize(listReads).perSecond / 2;
    const pageRate = summarize(pageReads).perSecond / 2;
    const listPaced = await measured(() => pacedRuns(`GET /api/v1/jobs, ${listRate.toFixed(0)}/s (half)`, listRate, SECONDS / 2, list));
    const pagePaced = await measured(() => pacedRuns(`a job's page data, ${pageRate.toFixed(0)}/s (half)`, pageRate, SECONDS / 2, page));
    // One client alone: a request's own time, without the queue that concurrent clients make on this machine's cores.
    const listAlone = await measured(() => timedLoops('GET /api/v1/jobs, 1 client', 1, SECONDS / 2, (_, timed) => list(timed)));
    const pageAlone = await measured(() => timedLoops("a job's page data, 1 client", 1, SECONDS / 2, (_, timed) => page(timed)));
    const all = [listReads, pageReads, listPaced, pagePaced, listAlone, pageAlone];
    printTable(
      all.map((m: Measurement) => {
        const s = summarize(m);
        return { measure: s.name, 'requests/s': s.perSecond, 'p50 ms': s.p50, 'p99 ms': s.p99, 'steal %': s.steal };
      }),
    );
    // Where the cores went: the bench process is the clients.
    console.log(`CPU cores used, GET /api/v1/jobs, ${CLIENTS} clients: ${describeCpu(listCpu, listReads.seconds)}`);
    console.log(`CPU cores used, a job's page data, ${CLIENTS} clients: ${describeCpu(pageCpu, pageReads.seconds)}`);
    console.log(`GET /api/v1/jobs by filter, ${CLIENTS} clients:`);
    printTable(
      [...shapeLatencies].map(([shape, latencies]) => {
        const sorted = latencies.sort((a, b) => a - b);
        return { filter: shape, requests: sorted.length, 'p50 ms': percentile(sorted, 50), 'p99 ms': percentile(sorted, 99) };
      }),
    );
    warnAboutSteal(
      'the HTTP reads',
      all.map((m) => m.cpu),
    );
    const worst = Math.max(summarize(listReads).p99, summarize(pageReads).p99);
    const worstPaced = Math.max(summarize(listPaced).p99, summarize(pagePaced).p99);
    console.log(
      `worst HTTP read p99: ${worst.toFixed(2)} ms (goal < 20 ms), ${CLIENTS} concurrent clients; ${worstPaced.toFixed(2)} ms at half their rate`,
    );
  } finally {
    agent.destroy();
    await api.stop();
  }
}
