import { jetstream, jetstreamManager, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { benchReadSide } from './read-side.js';
import {
  measured,
  merge,
  printTable,
  request,
  runId,
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

/** The commands of one job's life after `create`, as an executor and an operator send them. */
const LIFECYCLE: [string, Record<string, unknown>][] = [
  ['start', {}],
  ['progress', { processed: 100, total: 1000 }],
  ['log', { level: 'info', message: 'batch 1 loaded' }],
  ['progress', { processed: 400, total: 1000 }],
  ['pause', {}],
  ['mark-paused', {}],
  ['start', {}],
  ['progress', { processed: 700, total: 1000 }],
  ['reject', { records: [{ line: 712, reason: 'invalid email', record: { email: 'nope' } }] }],
  ['progress', { processed: 1000, total: 1000 }],
  ['finish', { processed: 1000, total: 1000 }],
];

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

/** The service: the same lifecycle as plain NATS requests, each with a command id. */
function serviceCommands(
  nc: NatsConnection,
  prefix: string,
  round: string,
  seconds: number,
  name = 'service commands',
): Promise<Measurement> {
  let jobs = 0;
  return timedLoops(name, JOBS, seconds, async (worker, timed) => {
    const key = `${round}-${jobs++}`;
    const create = { label: `bench job ${key}`, kind: 'import', actor: `worker-${worker}`, commandId: `${key}-0` };
    const { jobId } = await timed(() => request(nc, `${prefix}.cmd.create`, create));
    for (const [index, [name, extra]] of LIFECYCLE.entries()) {
      await timed(() => request(nc, `${prefix}.cmd.${name}`, { jobId, commandId: `${key}-${index + 1}`, ...extra }));
    }
  });
}

/** BENCH_PARTS: which parts run, `write,read` by default. */
const PARTS = (process.env.BENCH_PARTS ?? 'write,read').split(',');

async function main(): Promise<void> {
  const id = runId();
  // Without per-request stack traces, as the service runs: the same client costs for both sides.
  const nc = await connect({ servers: NATS_URL, name: 'bench', noAsyncTraces: true });
  if (PARTS.includes('write')) await benchWriteSide(nc, id);
  if (PARTS.includes('read')) await benchReadSide(nc, NATS_URL, id);
  await nc.close();
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
  if (BARE) apps.push(await startBuilt('bench/bare-responder.js', { NATS_URL, JOBS_SUBJECT_PREFIX: barePrefix, JOBS_STREAM: bareStream }));
  const bareCommands = (round: string, seconds: number) => serviceCommands(nc, barePrefix, round, seconds, 'bare responder (baseline)');
  const raw: Measurement[] = [];
  const service: Measurement[] = [];
  const bare: Measurement[] = [];
  try {
    if (WARMUP_SECONDS > 0) {
      await rawAppends(js, `${id}.raw`, 'warmup', WARMUP_SECONDS);
      await serviceCommands(nc, prefix, 'warmup', WARMUP_SECONDS);
      if (BARE) await bareCommands('warmup', WARMUP_SECONDS);
    }
    for (let round = 0; round < ROUNDS; round++) {
      const rawRound = await measured(() => rawAppends(js, `${id}.raw`, String(round), SECONDS));
      const serviceRound = await measured(() => serviceCommands(nc, prefix, String(round), SECONDS));
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
