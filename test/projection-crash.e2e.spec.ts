import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JetStreamEventStore } from '#event-store';
import { TEST_NATS_URL } from '#testing/nats';
import { activeReadModelFile, readModelRows, referenceReadModels } from '#testing/read-models';
import { startTestService, type TestService } from '#testing/service';

const JOBS = 1_000;
let service: TestService;
let dataDir: string;

/** One job's life after its create: eleven commands, eleven events; an executor holds each run. */
const LIFE: [string, Record<string, unknown>][] = [
  ['start', {}],
  ['claim', { executor: 'executor-1' }],
  ['progress', { processed: 10, total: 40 }],
  ['log', { level: 'warning', message: 'slow source' }],
  [
    'reject',
    {
      records: [
        { line: 3, reason: 'bad email', record: { email: 'x' } },
        { line: 9, reason: 'no id', record: 'a;b' },
      ],
    },
  ],
  ['progress', { processed: 20 }],
  ['pause', {}],
  ['mark-paused', {}],
  ['start', {}],
  ['claim', { executor: 'executor-1' }],
  ['finish', { processed: 40, total: 40 }],
];

beforeAll(async () => {
  service = await startTestService('crash');
  dataDir = mkdtempSync(path.join(tmpdir(), 'crash-'));
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < JOBS) {
        const n = next++;
        const { jobId } = await service.command('create', {
          jobId: `job-${n}`,
          label: `Import ${n}`,
          kind: 'import',
          actor: `op-${n % 7}`,
        });
        for (const [name, body] of LIFE) {
          const reply = await service.command(name, { jobId, ...body });
          if (!reply.ok) throw new Error(JSON.stringify(reply));
        }
      }
    }),
  );
}, 120_000);

afterAll(async () => {
  await service?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function startProjection(): ChildProcess {
  return spawn(process.execPath, [path.resolve('dist/apps/query-service/src/main.js')], {
    env: {
      ...process.env,
      NATS_URL: TEST_NATS_URL,
      JOBS_STREAM: service.config.stream,
      JOBS_SUBJECT_PREFIX: service.config.subjectPrefix,
      DATA_DIR: dataDir,
      LOG_FORMAT: 'json',
    },
    stdio: 'ignore',
  });
}

/** Polls the read-model file's checkpoint until `done` says so. */
async function watchCheckpoint(done: (checkpoint: number) => boolean, timeoutMs: number): Promise<number> {
  const file = activeReadModelFile(dataDir, service.config.stream);
  const deadline = Date.now() + timeoutMs;
  let reader: Database.Database | null = null;
  try {
    while (Date.now() < deadline) {
      if (!reader && existsSync(file)) reader = new Database(file, { readonly: true });
      const checkpoint = reader
        ? ((reader.prepare('SELECT position FROM checkpoint').get() as { position: number } | undefined)?.position ?? 0)
        : 0;
      if (done(checkpoint)) return checkpoint;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } catch (error) {
    // The table may not exist yet in the first instants of the file.
    if (!String(error).includes('no such table')) throw error;
    return watchCheckpoint(done, deadline - Date.now());
  } finally {
    reader?.close();
  }
  throw new Error('the checkpoint did not get there in time');
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

it('resumes after SIGKILL in the middle of catching up 12,000 events, with nothing lost and nothing twice', async () => {
  const head = await service.lastSequence();
  expect(head).toBe(JOBS * (LIFE.length + 1));

  const killedAt: number[] = [];
  for (let round = 0; round < 2; round++) {
    const previous = killedAt.at(-1) ?? 0;
    const projection = startProjection();
    const at = await watchCheckpoint((checkpoint) => checkpoint > previous, 30_000);
    projection.kill('SIGKILL');
    await exited(projection);
    killedAt.push(at);
  }
  // Both kills landed in the middle of the catch-up.
  expect(killedAt[1]).toBeLessThan(head);

  const projection = startProjection();
  await watchCheckpoint((checkpoint) => checkpoint === head, 60_000);
  projection.kill('SIGTERM');
  await exited(projection);

  const recovered = readModelRows(activeReadModelFile(dataDir, service.config.stream));
  const store = await JetStreamEventStore.open(service.nc, { stream: service.config.stream, subjectPrefix: service.config.subjectPrefix });
  const reference = await referenceReadModels(store, path.join(dataDir, 'reference.sqlite'));
  expect(recovered.checkpoint).toBe(head);
  expect(recovered.jobs).toHaveLength(JOBS);
  // Every event writes one log line except progress reports; rejects write one for their batch.
  expect(recovered.logs).toHaveLength(JOBS * (LIFE.length + 1 - 2));
  expect(recovered.rejects).toHaveLength(JOBS * 2);
  expect(recovered).toEqual(reference);
}, 120_000);
