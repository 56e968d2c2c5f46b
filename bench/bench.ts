import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { printTable, request, runId, startApp, stopApp, summarize, timedLoops } from './bench-support.js';

/**
 * `npm run bench`: the command service against raw JetStream on the same server, in one run.
 * Both drive JOBS concurrent jobs through the same lifecycle; raw JetStream does the appends the
 * service does (one message per command, expected-last-subject-sequence checked).
 */
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const JOBS = Number(process.env.BENCH_JOBS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** Command service processes, one queue group. */
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);

/** The commands of one job's life, as an executor and an operator send them. */
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

async function main(): Promise<void> {
  const id = runId();
  // Without per-request stack traces, as the service runs: the same client costs for both sides.
  const nc = await connect({ servers: NATS_URL, name: 'bench', noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const rows: Record<string, string | number>[] = [];
  console.log(`bench: ${JOBS} concurrent jobs, ${SECONDS} s a side, NATS ${NATS_URL}`);

  // Raw JetStream: one subject per job, the same number of appends, each checked against the last sequence.
  const rawStream = `${id}_RAW`.toUpperCase();
  await jsm.streams.add({ name: rawStream, subjects: [`${id}.raw.>`], storage: StorageType.File });
  const body = (n: number) => JSON.stringify([{ type: 'ProgressReported', version: n, data: { processed: n * 100, total: 1000 }, padding: 'x'.repeat(180) }]);
  let rawJobs = 0;
  const raw = await timedLoops('raw JetStream appends', JOBS, SECONDS, async () => {
    const subject = `${id}.raw.job${rawJobs++}`;
    let last = 0;
    for (let n = 0; n <= LIFECYCLE.length; n++) {
      const h = natsHeaders();
      h.set('Job-Event-Type', 'ProgressReported');
      const ack = await js.publish(subject, body(n), { expect: { lastSubjectSequence: last }, headers: h, msgID: `${subject}:${n}` });
      last = ack.seq;
    }
    return LIFECYCLE.length + 1;
  });
  await jsm.streams.delete(rawStream);

  // The service, as its own process: the same lifecycle as plain NATS requests, each with a command id.
  const prefix = `${id}.svc`;
  const stream = `${id}_SVC`.toUpperCase();
  const apps = await Promise.all(
    Array.from({ length: INSTANCES }, () => startApp('command-service', { NATS_URL, JOBS_SUBJECT_PREFIX: prefix, JOBS_STREAM: stream })),
  );
  let serviceJobs = 0;
  const service = await timedLoops('service commands', JOBS, SECONDS, async (worker) => {
    const n = serviceJobs++;
    const { jobId } = await request(nc, `${prefix}.cmd.create`, { label: `bench job ${n}`, kind: 'import', actor: `worker-${worker}`, commandId: `${id}-${n}-0` });
    for (const [index, [name, extra]] of LIFECYCLE.entries()) {
      await request(nc, `${prefix}.cmd.${name}`, { jobId, commandId: `${id}-${n}-${index + 1}`, ...extra });
    }
    return LIFECYCLE.length + 1;
  });
  await Promise.all(apps.map(stopApp));
  await jsm.streams.delete(stream);

  const r = summarize(raw);
  const s = summarize(service);
  rows.push({ measure: r.name, 'ops/s': r.perSecond, 'p50 ms': r.p50, 'p99 ms': r.p99 });
  rows.push({ measure: s.name, 'ops/s': s.perSecond, 'p50 ms': s.p50, 'p99 ms': s.p99 });
  printTable(rows);
  console.log(`write ratio (service / raw JetStream throughput): ${(s.perSecond / r.perSecond).toFixed(2)}  (goal >= 0.5)`);
  console.log(`jobs driven: ${serviceJobs} through the service, ${rawJobs} raw`);
  await nc.close();
}

await main();
