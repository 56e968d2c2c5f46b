import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JetStreamEventStore } from '#event-store';
import { ReadModelProjector } from '#query-service';
import { readJobEvents } from '#testing/event-store.contract';
import { startPrivateNats, type PrivateNats } from '#testing/private-nats';
import { readModelRows, referenceReadModels } from '#testing/read-models';
import { startTestService, type TestService } from '#testing/service';

let nats: PrivateNats;
let service: TestService;
const scratch = mkdtempSync(path.join(tmpdir(), 'restart-'));

beforeAll(async () => {
  nats = await startPrivateNats();
  service = await startTestService('restart', { sides: ['commands', 'queries'], natsUrl: nats.url });
});

afterAll(async () => {
  await service?.close();
  await nats?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const LIFE: [string, Record<string, unknown>][] = [
  ['start', {}],
  ['progress', { processed: 1, total: 3 }],
  ['log', { level: 'info', message: 'half way' }],
  ['progress', { processed: 2 }],
  ['reject', { records: [{ line: 2, reason: 'bad', record: { n: 2 } }] }],
  ['finish', { processed: 3, total: 3 }],
];

/** What a careful client does: retry a command with the same commandId until it gets an answer that is not UNAVAILABLE, TIMEOUT or INTERNAL. */
async function sendUntilAnswered(name: string, body: Record<string, unknown>): Promise<any> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const reply = await service.nc.request(`${service.config.subjectPrefix}.cmd.${name}`, JSON.stringify(body), { timeout: 1_000 });
      const answer = reply.json<any>();
      if (answer.ok || !['UNAVAILABLE', 'TIMEOUT', 'INTERNAL'].includes(answer.error.code)) return answer;
    } catch {
      // Disconnected, no responders yet, or no answer in time: the server is restarting.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} never answered`);
}

async function retry<T>(operation: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

it('loses no command and applies none twice when the NATS server restarts under load', async () => {
  const JOBS = 300;
  let next = 0;
  let finished = 0;
  const load = Promise.all(
    Array.from({ length: 12 }, async () => {
      while (next < JOBS) {
        const n = next++;
        const jobId = `job-${n}`;
        const created = await sendUntilAnswered('create', { jobId, label: `Job ${n}`, kind: 'import', commandId: `${jobId}-create` });
        expect(created, jobId).toMatchObject({ ok: true, jobId });
        for (const [index, [name, body]] of LIFE.entries()) {
          const reply = await sendUntilAnswered(name, { jobId, commandId: `${jobId}-${index}`, ...body });
          expect(reply, `${jobId} ${name}`).toMatchObject({ ok: true });
        }
        finished++;
      }
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(finished).toBeLessThan(JOBS); // The restart happens in the middle of the load.
  await nats.restart(500);
  await load;
  // Right after a restart an occasional JetStream API request goes unanswered: ask again.
  const store = await retry(() =>
    JetStreamEventStore.open(service.nc, { stream: service.config.stream, subjectPrefix: service.config.subjectPrefix }),
  );
  for (let n = 0; n < JOBS; n++) {
    const events = await readJobEvents(store, `job-${n}`);
    expect(events.map((event) => event.type)).toEqual([
      'Created',
      'Started',
      'ProgressReported',
      'MessageLogged',
      'ProgressReported',
      'RecordsRejected',
      'Finished',
    ]);
    expect(new Set(events.map((event) => event.commandId)).size).toBe(events.length);
  }

  const head = await retry(() => service.lastSequence());
  const projector = service.instances[0]!.get(ReadModelProjector);
  await projector.waitFor(head, 30_000);
  const reference = await referenceReadModels(store, path.join(scratch, 'reference.sqlite'));
  expect(readModelRows(projector.databaseFile)).toEqual(reference);
}, 120_000);
