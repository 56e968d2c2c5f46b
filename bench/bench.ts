import { cpus, loadavg } from 'node:os';
import { jetstream, jetstreamManager, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { LIFECYCLE, serviceCommands } from './lifecycle.js';
import { benchHttp } from './http.js';
import { benchImport } from './import.js';
import { benchPause } from './pause.js';
import { benchReadSide, withSeededReadSide } from './read-side.js';
import { benchSse } from './sse.js';
import {
  measured,
  merge,
  printTable,
  runId,
  SERVICE_NODE_FLAGS,
  startApp,
  startBuilt,
  stopApp,
  summarize,
  timedLoops,
  warnAboutSteal,
  type Measurement,
} from './bench-support.js';

/**
 * `npm run bench`: the command service against raw JetStream on the same server, in one run.
 * Both drive BENCH_JOBS concurrent jobs through the same lifecycle; raw JetStream does the
 * appends the service does (one message per command, expected-last-subject-sequence and
 * message-id headers), from the same client connection. The two sides alternate for
 * BENCH_ROUNDS rounds so that a slow moment of the machine does not favour either.
 */
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const JOBS = Number(process.env.BENCH_JOBS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Unmeasured seconds of each side first: both clients and the service run optimized code when timing starts. */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
/** Command service processes, one queue group. */
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
/** BENCH_BARE=1: also time bench/bare-responder.ts, the same request, append and reply with nothing else. */
const BARE = process.env.BENCH_BARE === '1';

/** Raw JetStream: one subject per job, each append checked against the subject's last sequence. */
function rawAppends(js: JetStreamClient, subjectPrefix: string, round: string, seconds: number): Promise<Measurement> {
  const body = (n: number) =>
    JSON.stringify([{ type: 'ProgressReported', version: n, data: { processed: n * 100, total: 1000 }, padding: 'x'.repeat(180) }]);
  let jobs = 0;
  return timedLoops('raw JetStream appends', JOBS, seconds, async (_, timed) => {
    const subject = `${subjectPrefix}.job${round}_${jobs++}`;
    let last = 0;
    for (let n = 0; n <= LIFECYCLE.length; n++) {
      const headers = natsHeaders();
      headers.set('Job-Event-Type', 'ProgressReported');
      const ack = await timed(() =>
        js.publish(subject, body(n), { expect: { lastSubjectSequence: last }, headers, msgID: `${subject}:${n}` }),
      );
      last = ack.seq;
    }
  });
}

/** BENCH_PARTS: which parts run, all of them by default. */
const ALL_PARTS = ['write', 'read', 'http', 'sse', 'pause', 'import'];
const PARTS = (process.env.BENCH_PARTS ?? ALL_PARTS.join(',')).split(',').map((part) => part.trim());

async function main(): Promise<void> {
  const unknown = PARTS.filter((part) => !ALL_PARTS.includes(part));
  if (unknown.length) throw new Error(`BENCH_PARTS names ${unknown.join(', ')}: the parts are ${ALL_PARTS.join(', ')}`);
  const id = runId();
  const started = performance.now();
  // Other processes of this machine weigh on the figures as steal does, and steal does not show them.
  console.log(`load average before: ${loadavg()[0]!.toFixed(1)} (${cpus().length} CPUs)`);
  console.log(`Node flags of the services: ${SERVICE_NODE_FLAGS.join(' ') || 'none'} (BENCH_NODE_FLAGS)`);
  // Without per-request stack traces, as the service runs: the same client costs for both sides.
  const nc = await connect({ servers: NATS_URL, name: 'bench', noAsyncTraces: true });
  if (PARTS.includes('write')) await benchWriteSide(nc, id);
  // The read and http parts share one seeded stream and its query service.
  if (PARTS.includes('read') || PARTS.includes('http')) {
    await withSeededReadSide(nc, NATS_URL, id, async (seeded) => {
      if (PARTS.includes('read')) await benchReadSide(nc, seeded);
      if (PARTS.includes('http')) await benchHttp(seeded);
    });
  }
  if (PARTS.includes('sse')) await benchSse(nc, NATS_URL, id);
  if (PARTS.includes('pause')) await benchPause(nc, NATS_URL, id);
  if (PARTS.includes('import')) await benchImport(nc, NATS_URL, id);
  await nc.close();
  console.log(`
bench parts ${PARTS.join(', ')}: ${((performance.now() - started) / 60_000).toFixed(1)} minutes`);
}

async function benchWriteSide(nc: NatsConnection, id: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  console.log(
    `bench: ${JOBS} concurrent jobs, ${WARMUP_SECONDS} s of warm-up then ${ROUNDS} rounds of ${SECONDS} s a side, ${INSTANCES} command service(s), NATS ${NATS_URL}`,
  );

  const rawStream = `${id}_RAW`.toUpperCase();
  await jsm.streams.add({ name: rawStream, subjects: [`${id}.raw.>`], storage: StorageType.File });
  const prefix = `${id}.svc`;
  const stream = `${id}_SVC`.toUpperCase();
  const apps = await Promise.all(
    Array.from({ length: INSTANCES }, () => startApp('command-service', { NATS_URL, JOBS_SUBJECT_PREFIX: prefix, JOBS_STREAM: stream })),
  );
  const barePrefix = `${id}.bare`;
  const bareStream = `${id}_BARE`.toUpperCase();
  if (BARE) {
    apps.push((await startBuilt('bench/bare-responder.js', { NATS_URL, JOBS_SUBJECT_PREFIX: barePrefix, JOBS_STREAM: bareStream })).child);
  }
  const commands = (round: string, seconds: number) => serviceCommands(nc, prefix, round, { jobs: JOBS, seconds });
  const bareCommands = (round: string, seconds: number) =>
    serviceCommands(nc, barePrefix, round, { jobs: JOBS, seconds, name: 'bare responder (baseline)' });
  const raw: Measurement[] = [];
  const service: Measurement[] = [];
  const bare: Measurement[] = [];
  try {
    if (WARMUP_SECONDS > 0) {
      await rawAppends(js, `${id}.raw`, 'warmup', WARMUP_SECONDS);
      await commands('warmup', WARMUP_SECONDS);
      if (BARE) await bareCommands('warmup', WARMUP_SECONDS);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const rawRound = await measured(() => rawAppends(js, `${id}.raw`, String(round), SECONDS));
      const serviceRound = await measured(() => commands(String(round), SECONDS));
      const bareRound = BARE ? await measured(() => bareCommands(String(round), SECONDS)) : undefined;
      raw.push(rawRound);
      service.push(serviceRound);
      if (bareRound) bare.push(bareRound);
      // Each round on its own: how far the machine's speed moved between rounds shows in their spread.
      const [r, s] = [summarize(rawRound), summarize(serviceRound)];
      const b = bareRound && summarize(bareRound);
      console.log(
        `round ${round + 1}: raw ${r.perSecond.toFixed(0)} appends/s (steal ${r.steal.toFixed(0)}%), ` +
          `service ${s.perSecond.toFixed(0)} commands/s (steal ${s.steal.toFixed(0)}%), ratio ${(s.perSecond / r.perSecond).toFixed(2)}` +
          (b
            ? `; bare responder ${b.perSecond.toFixed(0)} (steal ${b.steal.toFixed(0)}%), ratio ${(b.perSecond / r.perSecond).toFixed(2)}`
            : ''),
      );
    }
  } finally {
    await Promise.all(apps.map(stopApp));
    await jsm.streams.delete(rawStream);
    await jsm.streams.delete(stream);
    if (BARE) await jsm.streams.delete(bareStream).catch(() => undefined);
  }

  const r = summarize(merge(raw));
  const s = summarize(merge(service));
  const b = bare.length > 0 ? summarize(merge(bare)) : undefined;
  printTable(
    [r, s, ...(b ? [b] : [])].map((m) => ({ measure: m.name, 'ops/s': m.perSecond, 'p50 ms': m.p50, 'p99 ms': m.p99, 'steal %': m.steal })),
  );
  warnAboutSteal(
    'the write side',
    [...raw, ...service, ...bare].map((m) => m.cpu),
  );
  console.log(`write throughput ratio, service / raw JetStream: ${(s.perSecond / r.perSecond).toFixed(2)} (goal >= 0.5)`);
  if (b) console.log(`baseline: a bare responder / raw JetStream: ${(b.perSecond / r.perSecond).toFixed(2)}`);
  console.log(`write p50 latency ratio, raw / service: ${(r.p50 / s.p50).toFixed(2)}`);
}

await main();
