import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replayJob } from '#domain';
import { JetStreamEventStore } from '#event-store';
import { ReadModelProjector } from '#query-service';
import { allCommits, readJobEvents } from '#testing/event-store.contract';
import { connectTestNats } from '#testing/nats';
import { retry, sendUntilAnswered } from '#testing/retries';
import { startNatsCluster, streamLeader, waitForJetStreamCluster, waitForStreamReplicas, type NatsCluster } from '#testing/nats-cluster';
import { readModelRows, referenceReadModels } from '#testing/read-models';
import { startTestService, type TestService } from '#testing/service';

const REPLICAS = 3;
/** Concurrent clients, each driving one job at a time through its lifecycle. */
const CLIENTS = 8;
const JOBS = 48;
/** The longest a careful client may have to keep retrying one command. */
const ANSWER_WITHIN_MS = 30_000;

let cluster: NatsCluster | undefined;
let service: TestService | undefined;
const scratch = mkdtempSync(path.join(tmpdir(), 'cluster-reference-'));

beforeAll(async () => {
  cluster = await startNatsCluster(REPLICAS);
  const nc = await connectTestNats(cluster.url);
  try {
    await waitForJetStreamCluster(nc, REPLICAS);
  } finally {
    await nc.close();
  }
  service = await startTestService('cluster', {
    sides: ['commands', 'queries'],
    natsUrl: cluster.url,
    env: { JOBS_STREAM_REPLICAS: String(REPLICAS) },
  });
  await waitForStreamReplicas(service.nc, service.config.stream, REPLICAS);
}, 120_000);

afterAll(async () => {
  try {
    // Bounded: a cluster that lost its quorum must not keep the servers and folders from being removed.
    await within(30_000, 'closing the service', service?.close());
  } finally {
    await cluster?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}, 60_000);

async function within<T>(ms: number, what: string, operation: Promise<T> | undefined): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([operation, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** A job's commands after `create`, each with what it sends; job `n` sends figures of its own. */
function lifecycle(n: number): [string, Record<string, unknown>][] {
  const total = 2 * n + 10;
  return [
    ['start', {}],
    ['progress', { processed: n, total }],
    ['log', { level: 'warning', message: `job ${n} is half way` }],
    ['reject', { records: [{ line: n + 1, reason: 'bad email', record: { email: `x${n}` } }] }],
    ['progress', { processed: total - 1 }],
    ['finish', { processed: total, total }],
  ];
}

/** A careful client's patience: a failover may keep a command unanswered for a while. */
const PATIENCE = { withinMs: ANSWER_WITHIN_MS, requestTimeoutMs: 2_000, pauseMs: 100 };

it('loses no acknowledged command, applies none twice and keeps answering when the stream leader is killed', async () => {
  const { nc, config } = service!;
  const sent = new Set<string>();
  let answered = 0;
  let next = 0;
  const load = Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < JOBS) {
        const n = next++;
        const jobId = `job-${n}`;
        const commands: [string, Record<string, unknown>][] = [
          ['create', { label: `Job ${n}`, kind: n % 2 ? 'export' : 'import' }],
          ...lifecycle(n),
        ];
        for (const [index, [name, body]] of commands.entries()) {
          const commandId = `${jobId}-${index}`;
          sent.add(commandId);
          const reply = await sendUntilAnswered(service!, name, { jobId, commandId, ...body }, PATIENCE);
          // A retry of a command that was stored gets the first reply: its version, not one more.
          expect(reply, `${jobId} ${name}`).toMatchObject({ ok: true, jobId, version: index + 1 });
          answered++;
        }
      }
    }),
  );
  let loadEnded = false;
  const ended = () => {
    loadEnded = true;
  };
  load.then(ended, ended);
  const total = JOBS * (1 + lifecycle(0).length);
  while (answered < total / 4 && !loadEnded) await new Promise((resolve) => setTimeout(resolve, 20));
  const leader = await streamLeader(nc, config.stream);
  expect(answered).toBeLessThan(total / 2); // The leader dies in the middle of the load.
  await cluster!.kill(leader);
  await load;
  expect(answered).toBe(total);

  // The two servers left elected a new leader among themselves, and the stream took every write since.
  expect(await retry(() => streamLeader(nc, config.stream))).not.toBe(leader);
  const store = await retry(() =>
    JetStreamEventStore.open(nc, { stream: config.stream, subjectPrefix: config.subjectPrefix, replicas: REPLICAS }),
  );
  const commitsByCommandId = new Map<string, number>();
  const commits = await retry(() => allCommits(store));
  for (const commit of commits) {
    const events: { commandId: string }[] = JSON.parse(commit.events);
    for (const commandId of new Set(events.map((event) => event.commandId))) {
      commitsByCommandId.set(commandId, (commitsByCommandId.get(commandId) ?? 0) + 1);
    }
  }
  expect([...commitsByCommandId.keys()].sort()).toEqual([...sent].sort());
  expect([...commitsByCommandId.entries()].filter(([, count]) => count !== 1)).toEqual([]);

  for (let n = 0; n < JOBS; n++) {
    const jobId = `job-${n}`;
    const events = await retry(() => readJobEvents(store, jobId));
    expect(
      events.map((event) => event.version),
      jobId,
    ).toEqual(Array.from({ length: total / JOBS }, (_, index) => index + 1));
    const figure = 2 * n + 10;
    expect(replayJob(jobId, events), jobId).toMatchObject({
      status: 'finished',
      label: `Job ${n}`,
      kind: n % 2 ? 'export' : 'import',
      processed: figure,
      total: figure,
      rejected: 1,
      warning: true,
    });
  }

  const head = await retry(() => service!.lastSequence());
  const projector = service!.instances[0]!.get(ReadModelProjector);
  await projector.waitFor(head, 30_000);
  const reference = await retry(() => referenceReadModels(store, path.join(scratch, 'reference.sqlite')));
  expect(readModelRows(projector.databaseFile)).toEqual(reference);
}, 120_000);
