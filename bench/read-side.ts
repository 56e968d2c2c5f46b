import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { EVENT_HEADERS, type CommandBody, type CommandName, type UnpositionedJobEvent } from '#contracts';
import { decide, evolve, initialJobState, type JobCommand, type JobState } from '#domain';
import {
  addCpu,
  measured,
  percentile,
  printTable,
  request,
  startApp,
  stopApp,
  stealPercent,
  summarize,
  warnAboutSteal,
  withCpu,
  type CpuTicks,
  type Measurement,
} from './bench-support.js';

/**
 * The read side of `npm run bench`: a stream seeded with BENCH_READ_JOBS jobs and
 * BENCH_READ_LOGS log entries (events decided by the real decider, appended straight to
 * JetStream), which the read and http parts measure.
 */
const JOBS = Number(process.env.BENCH_READ_JOBS ?? 100_000);
const LOGS = Number(process.env.BENCH_READ_LOGS ?? 1_000_000);
/** Jobs with rejected records, 100 each. */
const JOBS_WITH_REJECTS = Math.min(JOBS, 1_000);
const QUERIES = Number(process.env.BENCH_READ_QUERIES ?? 2_000);
/** Raw reads and rebuilds alternate, so that a slow spell of a shared machine weighs on both. */
const ROUNDS = Number(process.env.BENCH_READ_ROUNDS ?? 3);

class JobWriter {
  private state: JobState;
  readonly commits: UnpositionedJobEvent[][] = [];
  constructor(readonly jobId: string) {
    this.state = initialJobState(jobId);
  }
  send<N extends CommandName>(name: N, body: Omit<CommandBody<N>, 'jobId'>, actor: string, at: Date): void {
    const decision = decide(
      { name, body: { ...body, jobId: this.jobId } } as JobCommand,
      {
        jobId: this.jobId,
        commandId: `${this.jobId}-${this.state.version}`,
        actor,
        actorAuthenticated: false,
        at: at.toISOString(),
        correlationId: this.jobId,
        causationId: this.jobId,
      },
      this.state,
    );
    if (!decision.ok) throw new Error(decision.error.message);
    for (const event of decision.events) this.state = evolve(this.state, event);
    this.commits.push(decision.events);
  }
}

/** Publishes commits as the event store does, many in flight at once. */
async function seed(js: JetStreamClient, prefix: string, jobs: Iterable<JobWriter>): Promise<number> {
  let inFlight: Promise<unknown>[] = [];
  let count = 0;
  for (const job of jobs) {
    for (const events of job.commits) {
      const headers = natsHeaders();
      headers.append(EVENT_HEADERS.type, events.map((event) => event.type).join(','));
      headers.append(EVENT_HEADERS.jobId, job.jobId);
      headers.append(EVENT_HEADERS.version, String(events.at(-1)!.version));
      inFlight.push(js.publish(`${prefix}.events.${job.jobId}`, JSON.stringify(events), { headers }));
      count += events.length;
      if (inFlight.length >= 2_000) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
  }
  await Promise.all(inFlight);
  return count;
}

function* seedJobs(): Generator<JobWriter> {
  const logsPerJob = Math.floor(LOGS / JOBS);
  const start = Date.now() - JOBS * 1000;
  for (let n = 0; n < JOBS; n++) {
    const at = new Date(start + n * 1000);
    const job = new JobWriter(`bench-${n}`);
    job.send('create', { label: `${n % 2 ? 'Contacts' : 'Orders'} import ${n}`, kind: n % 3 ? 'import' : 'export' }, `user-${n % 50}`, at);
    job.send('start', {}, `user-${n % 50}`, at);
    // Created and Started write a log entry each.
    for (let i = 2; i < logsPerJob; i++)
      job.send('log', { level: i % 10 ? 'info' : 'warning', message: `batch ${i} loaded` }, 'executor', at);
    if (n < JOBS_WITH_REJECTS) {
      job.send(
        'reject',
        { records: Array.from({ length: 100 }, (_, i) => ({ line: i + 1, reason: 'invalid email', record: { email: `u${i}@` } })) },
        'executor',
        at,
      );
    }
    if (n % 4) job.send('finish', { processed: 1000, total: 1000 }, 'executor', at);
    yield job;
  }
}

async function rawOrderedRead(js: JetStreamClient, stream: string, last: number): Promise<Measurement> {
  const started = performance.now();
  const consumer = await js.consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 10_000 });
  let count = 0;
  for await (const message of messages) {
    count += 1;
    if (message.seq >= last) break;
  }
  messages.stop();
  return { name: 'raw ordered consumer read', operations: count, seconds: (performance.now() - started) / 1000, latenciesMs: [] };
}

async function queryLatency(nc: NatsConnection, prefix: string, name: string, bodies: () => Record<string, unknown>): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < QUERIES; i++) {
    const body = bodies();
    const before = performance.now();
    await request(nc, `${prefix}.query.${name}`, body);
    latenciesMs.push(performance.now() - before);
  }
  return { name, operations: QUERIES, seconds: (performance.now() - started) / 1000, latenciesMs };
}

/** A stream seeded with the read side's jobs, and a query service caught up with it. */
export interface SeededReadSide {
  natsUrl: string;
  prefix: string;
  stream: string;
  /** The stream's last position once seeded. */
  head: number;
  events: number;
  jobs: number;
  /** Jobs `bench-0` to `bench-<jobsWithRejects - 1>` have 100 rejected records each. */
  jobsWithRejects: number;
}

/**
 * Seeds BENCH_READ_JOBS jobs and about BENCH_READ_LOGS log entries, starts a query service and
 * lets it catch up, runs `work`, then removes the stream and the read models.
 */
export async function withSeededReadSide(
  nc: NatsConnection,
  natsUrl: string,
  id: string,
  work: (seeded: SeededReadSide) => Promise<void>,
): Promise<void> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const prefix = `${id}.read`;
  const stream = `${id}_READ`.toUpperCase();
  const dataDir = path.join(tmpdir(), `${id}-read-models`);
  console.log(`\nread side: seeding ${JOBS} jobs and about ${LOGS} log entries`);
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.events.>`] });
  try {
    const seeded = performance.now();
    const events = await seed(js, prefix, seedJobs());
    const head = (await jsm.streams.info(stream)).state.last_seq;
    console.log(`seeded ${events} events in ${head} commits in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
    // The seeding's writes go to disk now, not in the background of the first measurement.
    execFileSync('sync');

    const env = { NATS_URL: natsUrl, JOBS_SUBJECT_PREFIX: prefix, JOBS_STREAM: stream, DATA_DIR: dataDir, JOBS_QUERY_WAIT_MS: '60000' };
    const app = await startApp('query-service', env);
    try {
      const catchUp = performance.now();
      // Each wait is bounded by the service; a large catch-up takes several.
      while (
        !(await nc.request(`${prefix}.query.list`, JSON.stringify({ limit: 1, minPosition: head }), { timeout: 70_000 })).json<{
          ok: boolean;
        }>().ok
      );
      console.log(`query service caught up from 0 in ${((performance.now() - catchUp) / 1000).toFixed(1)} s`);
      await work({ natsUrl, prefix, stream, head, events, jobs: JOBS, jobsWithRejects: JOBS_WITH_REJECTS });
    } finally {
      await stopApp(app);
    }
  } finally {
    await jsm.streams.delete(stream);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * On a seeded stream, in the same run: the query service's rebuild rate against a raw
 * ordered-consumer read of the same stream, alternating BENCH_READ_ROUNDS times; then `list`,
 * `logs` and `rejects` latency over NATS, p50 and p99.
 */
export async function benchReadSide(nc: NatsConnection, { prefix, stream, head, events }: SeededReadSide): Promise<void> {
  const js = jetstream(nc);
  let raw = { messages: 0, seconds: 0, cpu: undefined as CpuTicks | undefined };
  let rebuild = { messages: 0, events: 0, seconds: 0, cpu: undefined as CpuTicks | undefined };
  const steals: (CpuTicks | undefined)[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const read = await measured(() => rawOrderedRead(js, stream, head));
    const { result: report, cpu } = await withCpu(async () =>
      (await nc.request(`${prefix}.admin.rebuild-read-models`, '{}', { timeout: 600_000 })).json<{
        events: number;
        commits: number;
        seconds: number;
      }>(),
    );
    console.log(
      `round ${round}: raw read ${(read.operations / read.seconds).toFixed(0)} messages/s (steal ${stealPercent(read.cpu).toFixed(0)}%), ` +
        `rebuild ${(report.commits / report.seconds).toFixed(0)} messages/s (steal ${stealPercent(cpu).toFixed(0)}%)`,
    );
    raw = { messages: raw.messages + read.operations, seconds: raw.seconds + read.seconds, cpu: addCpu(raw.cpu, read.cpu) };
    rebuild = {
      messages: rebuild.messages + report.commits,
      events: rebuild.events + report.events,
      seconds: rebuild.seconds + report.seconds,
      cpu: addCpu(rebuild.cpu, cpu),
    };
    steals.push(read.cpu, cpu);
  }
  const rawRate = raw.messages / raw.seconds;
  const rebuildRate = rebuild.messages / rebuild.seconds;
  printTable([
    {
      measure: 'raw ordered consumer read',
      'messages/s': rawRate,
      'events/s': rawRate * (events / head),
      'steal %': stealPercent(raw.cpu),
    },
    {
      measure: 'read model rebuild',
      'messages/s': rebuildRate,
      'events/s': rebuild.events / rebuild.seconds,
      'steal %': stealPercent(rebuild.cpu),
    },
  ]);
  warnAboutSteal('the rebuild comparison', steals);
  console.log(`rebuild ratio, rebuild / raw read (messages/s), ${ROUNDS} rounds: ${(rebuildRate / rawRate).toFixed(2)} (goal >= 0.5)`);

  let cursorIndex = 0;
  const statuses = ['running', 'finished', ['running', 'finished'], 'editing'];
  const list = await measured(() =>
    queryLatency(nc, prefix, 'list', () => {
      const n = cursorIndex++;
      const variants = [
        { limit: 50 },
        { status: statuses[n % statuses.length], limit: 50 },
        { kind: 'export', createdBy: `user-${n % 50}`, limit: 20 },
        { text: `import ${n % JOBS}`, limit: 20 },
        { sort: 'updatedAt', order: 'asc', limit: 50 },
      ];
      return variants[n % variants.length]!;
    }),
  );
  const logs = await measured(() =>
    queryLatency(nc, prefix, 'logs', () => {
      const n = Math.floor(Math.random() * JOBS);
      return { jobId: `bench-${n}`, limit: 100, ...(n % 2 ? { after: 0 } : { level: 'warning' }) };
    }),
  );
  const rejects = await measured(() =>
    queryLatency(nc, prefix, 'rejects', () => ({ jobId: `bench-${Math.floor(Math.random() * JOBS_WITH_REJECTS)}`, limit: 100 })),
  );
  const rows = [list, logs, rejects].map((m) => {
    const s = summarize(m);
    return { query: m.name, 'queries/s': s.perSecond, 'p50 ms': s.p50, 'p99 ms': s.p99, 'steal %': s.steal };
  });
  printTable(rows);
  warnAboutSteal(
    'the queries',
    [list, logs, rejects].map((m) => m.cpu),
  );
  const worst = Math.max(
    ...[list, logs, rejects].map((m) =>
      percentile(
        [...m.latenciesMs].sort((a, b) => a - b),
        99,
      ),
    ),
  );
  console.log(`worst query p99: ${worst.toFixed(2)} ms (goal < 10 ms), ${JOBS} jobs, ${events} events`);
}
