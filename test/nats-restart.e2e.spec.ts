import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JetStreamEventStore } from '#event-store';
import { ReadModelProjector } from '#query-service';
import { readJobEvents } from '#testing/event-store.contract';
import { startPrivateNats, type PrivateNats } from '#testing/private-nats';
import { retry, sendUntilAnswered } from '#testing/retries';
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

/** A careful client's patience: while the server restarts, commands go unanswered. */
const PATIENCE = { withinMs: 30_000, requestTimeoutMs: 1_000, pauseMs: 50 };

it('loses no command and applies none twice when the NATS server restarts under load', async () => {
  const JOBS = 300;
  let next = 0;
  let finished = 0;
  const load = Promise.all(
    Array.from({ length: 12 }, async () => {
      while (next < JOBS) {
        const n = next++;
        const jobId = `job-${n}`;
        const created = await sendUntilAnswered(
          service,
          'create',
          { jobId, label: `Job ${n}`, kind: 'import', commandId: `${jobId}-create` },
          PATIENCE,
        );
        expect(created, jobId).toMatchObject({ ok: true, jobId });
        for (const [index, [name, body]] of LIFE.entries()) {
          const reply = await sendUntilAnswered(service, name, { jobId, commandId: `${jobId}-${index}`, ...body }, PATIENCE);
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
