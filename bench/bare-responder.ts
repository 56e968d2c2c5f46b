import { randomUUID } from 'node:crypto';
import { jetstreamManager, StorageType, type PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders, createInbox, type Msg } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

/**
 * The bench's baseline for a request/reply service (`BENCH_BARE=1`), not part of the product:
 * it answers `<prefix>.cmd.*` with one JetStream append each, checked against the job's last
 * sequence and carrying a message id, as the command service does, but with no validation,
 * domain, idempotent replies or NestJS. What it reaches is about what any service that adds a
 * NATS request/reply in front of JetStream can reach on the same machine.
 */
const prefix = process.env.JOBS_SUBJECT_PREFIX!;
const stream = process.env.JOBS_STREAM!;
const nc = await connect({ servers: process.env.NATS_URL, noAsyncTraces: true, name: 'bench bare responder' });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: stream, subjects: [`${prefix}.events.>`], storage: StorageType.File, duplicate_window: 600e9 });

const inbox = createInbox();
const waiting = new Map<string, (ack: PubAck & { error?: { description: string } }) => void>();
let next = 0;
nc.subscribe(`${inbox}.*`, {
  callback: (_, message) => {
    const token = message.subject.slice(inbox.length + 1);
    waiting.get(token)?.(message.json());
    waiting.delete(token);
  },
});

const lastSequence = new Map<string, number>();
async function answer(request: Msg): Promise<void> {
  const body = request.json<{ jobId?: string; commandId: string }>();
  const jobId = body.jobId ?? randomUUID();
  const headers = natsHeaders();
  headers.append('Job-Event-Type', request.subject.slice(prefix.length + 5));
  headers.append('Nats-Msg-Id', `${jobId}:${body.commandId}`);
  headers.append('Nats-Expected-Last-Subject-Sequence', String(lastSequence.get(jobId) ?? 0));
  const event = JSON.stringify([{ type: request.subject, jobId, data: body, at: new Date().toISOString() }]);
  const token = (next++).toString(36);
  const ack = await new Promise<PubAck & { error?: { description: string } }>((resolve) => {
    waiting.set(token, resolve);
    nc.publish(`${prefix}.events.${jobId}`, Buffer.from(event), { reply: `${inbox}.${token}`, headers });
  });
  if (ack.error) {
    request.respond(Buffer.from(JSON.stringify({ ok: false, error: { code: 'APPEND_FAILED', message: ack.error.description } })));
    return;
  }
  lastSequence.set(jobId, ack.seq);
  request.respond(Buffer.from(JSON.stringify({ ok: true, jobId, position: ack.seq })));
}

nc.subscribe(`${prefix}.cmd.*`, { queue: `${prefix}.cmd`, callback: (_, request) => void answer(request) });
await nc.flush();
console.log('bare responder ready in 0 ms');

process.once('SIGTERM', async () => {
  await nc.drain();
  process.exit(0);
});
