import { randomUUID } from 'node:crypto';
import { PubHeaders, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { headers as natsHeaders, type Msg } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { EVENT_HEADERS } from '#contracts';
import { DEFAULT_JETSTREAM_OPTIONS, JetStreamPublisher } from '#event-store';

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
await jsm.streams.add({
  name: stream,
  subjects: [`${prefix}.events.>`],
  storage: StorageType.File,
  duplicate_window: DEFAULT_JETSTREAM_OPTIONS.duplicateWindowMs * 1_000_000,
});
// The event store's own publisher: one shared reply subscription for every acknowledgement.
const publisher = new JetStreamPublisher(nc, DEFAULT_JETSTREAM_OPTIONS.timeoutMs);

const lastSequence = new Map<string, number>();
async function answer(request: Msg): Promise<void> {
  const body = request.json<{ jobId?: string; commandId: string }>();
  const jobId = body.jobId ?? randomUUID();
  const headers = natsHeaders();
  headers.append(EVENT_HEADERS.type, request.subject.slice(prefix.length + 5));
  headers.append(PubHeaders.MsgIdHdr, `${jobId}:${body.commandId}`);
  headers.append(PubHeaders.ExpectedLastSubjectSequenceHdr, String(lastSequence.get(jobId) ?? 0));
  const event = JSON.stringify([{ type: request.subject, jobId, data: body, at: new Date().toISOString() }]);
  try {
    const ack = await publisher.publish(`${prefix}.events.${jobId}`, event, headers);
    lastSequence.set(jobId, ack.seq);
    request.respond(Buffer.from(JSON.stringify({ ok: true, jobId, position: ack.seq })));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    request.respond(Buffer.from(JSON.stringify({ ok: false, error: { code: 'APPEND_FAILED', message } })));
  }
}

nc.subscribe(`${prefix}.cmd.*`, { queue: `${prefix}.cmd`, callback: (_, request) => void answer(request) });
await nc.flush();
console.log('bare responder ready in 0 ms');

process.once('SIGTERM', async () => {
  publisher.close();
  await nc.drain();
  process.exit(0);
});
