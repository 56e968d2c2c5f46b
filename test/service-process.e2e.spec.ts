import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EVENT_HEADERS, type JobEventCommit } from '#contracts';
import { JetStreamEventStore } from '#event-store';
import { BULK_CATCH_UP_MIN_COMMITS } from '#query-service';
import { encodeCommit, JobStreams } from '#testing/job-streams';
import { activeReadModelFile, readModelRows, referenceReadModels } from '#testing/read-models';
import { connectTestNats, deleteStream, isolation, TEST_NATS_URL, type TestIsolation } from '#testing/nats';

const dataDir = mkdtempSync(path.join(tmpdir(), 'lifecycle-'));
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connectTestNats();
});

const streams: string[] = [];

afterAll(async () => {
  for (const stream of streams) await deleteStream(nc, stream);
  await nc.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs a built app as `npm start` would, on the test's stream, until it logs that it is ready. */
async function startApp(
  app: string,
  names: TestIsolation,
  appDataDir = mkdtempSync(path.join(dataDir, 'app-')),
): Promise<{ process: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  if (!streams.includes(names.stream)) streams.push(names.stream);
  // The job service's import/export worker makes its files bucket (a stream) at start.
  if (app === 'job-service' && !streams.includes(`OBJ_${names.stream}_files`)) streams.push(`OBJ_${names.stream}_files`);
  const child = spawn(process.execPath, [path.resolve(`dist/apps/${app}/src/main.js`)], {
    env: {
      ...process.env,
      NATS_URL: TEST_NATS_URL,
      JOBS_STREAM: names.stream,
      JOBS_SUBJECT_PREFIX: names.subjectPrefix,
      DATA_DIR: appDataDir,
      LOG_FORMAT: 'json',
      // The job service also serves HTTP: on any free port, beside the other tests; and its worker's
      // files bucket is the test's own.
      HTTP_PORT: '0',
      JOBS_FILES_BUCKET: `${names.stream}_files`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(' ready in ')) resolve();
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  return { process: child, output: () => output, exited };
}

/** Appends the commits as the event store does: one message per commit on the job's subject, with its Job-Version. */
async function publishCommits(names: TestIsolation, commits: JobEventCommit[]): Promise<void> {
  const js = jetstream(nc);
  const publish = ({ jobId, version, events }: ReturnType<typeof encodeCommit>) => {
    const versionHeader = headers();
    versionHeader.set(EVENT_HEADERS.version, String(version));
    return js.publish(`${names.subjectPrefix}.events.${jobId}`, events, { headers: versionHeader });
  };
  for (let i = 0; i < commits.length; i += 1_000)
    await Promise.all(
      commits
        .slice(i, i + 1_000)
        .map(encodeCommit)
        .map(publish),
    );
}

/** A stream with a history long enough to be loaded in bulk by a service starting from nothing. */
async function longHistory(label: string): Promise<{ names: TestIsolation; streams: JobStreams; jobs: number }> {
  const names = isolation(label);
  const history = new JobStreams();
  let jobs = 0;
  while (history.commits.length < BULK_CATCH_UP_MIN_COMMITS) {
    const n = jobs++;
    history.run('create', { jobId: `job-${n}`, label: `Job ${n}`, kind: n % 2 ? 'import' : 'export' });
    if (n % 4 === 0) history.run('log', { jobId: `job-${n}`, level: 'warning', message: `slow source ${n}` });
  }
  streams.push(names.stream);
  await (await jetstreamManager(nc)).streams.add({ name: names.stream, subjects: [`${names.subjectPrefix}.events.>`] });
  await publishCommits(names, history.commits);
  return { names, streams: history, jobs };
}

it('answers a query sent the moment it says ready, while it catches up with the stream', async () => {
  // A stream for the service to catch up with as it starts: its event loop is busy right away.
  const { names } = await longHistory('ready');

  for (let attempt = 0; attempt < 3; attempt++) {
    const { process: service, exited } = await startApp('job-service', names);
    try {
      const reply = (await nc.request(`${names.subjectPrefix}.query.list`, JSON.stringify({ limit: 1 }), { timeout: 10_000 })).json<{
        ok: boolean;
      }>();
      expect(reply.ok).toBe(true);
    } finally {
      service.kill('SIGTERM');
      await exited;
    }
  }
});

it('finishes the commands in flight on SIGTERM, then exits 0', async () => {
  const names = isolation('shutdown');
  const { process: service, output, exited } = await startApp('command-service', names);

  const requests = Array.from({ length: 300 }, (_, i) =>
    nc
      .request(`${names.subjectPrefix}.cmd.create`, JSON.stringify({ jobId: `job-${i}`, label: `Job ${i}`, kind: 'import' }), {
        timeout: 5_000,
      })
      .then((reply) => ({ reply: reply.json<{ ok: boolean; jobId: string }>() }))
      .catch((error: Error & { isNoResponders?: () => boolean }) => ({ error })),
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  service.kill('SIGTERM');
  const results = await Promise.all(requests);
  expect(await exited).toBe(0);
  expect(output()).toContain('finishing requests in flight');

  const answered = results.flatMap((result) => ('reply' in result ? [result.reply] : []));
  // What reached the service was answered; what came after it stopped listening found nobody, fast.
  for (const result of results) {
    if ('error' in result) expect(result.error.isNoResponders?.(), String(result.error)).toBe(true);
  }
  expect(answered.length).toBeGreaterThan(0);
  for (const reply of answered) expect(reply.ok).toBe(true);
  // Every answered command is in the stream, and nothing else.
  const jsm = await jetstreamManager(nc);
  expect((await jsm.streams.info(names.stream)).state.messages).toBe(answered.length);
});

it('refuses to start on the DATA_DIR of a running query service, says what to do, and leaves that one serving', async () => {
  const names = isolation('shared-data');
  const shared = mkdtempSync(path.join(dataDir, 'shared-'));
  const { process: first, exited } = await startApp('query-service', names, shared);
  try {
    await expect(startApp('query-service', names, shared)).rejects.toThrow(
      /exited with 1: .*in use by another process: give each query service instance its own DATA_DIR/s,
    );
    const reply = (await nc.request(`${names.subjectPrefix}.query.list`, JSON.stringify({ limit: 1 }), { timeout: 5_000 })).json<{
      ok: boolean;
    }>();
    expect(reply.ok).toBe(true);
  } finally {
    first.kill('SIGTERM');
    await exited;
  }
  // Stopped, it lets the next one in.
  const { process: next, exited: nextExited } = await startApp('query-service', names, shared);
  next.kill('SIGTERM');
  expect(await nextExited).toBe(0);
});

it('loads a long history in bulk when it starts from nothing, to the rows of a replay, then follows on', async () => {
  const { names, streams: history, jobs } = await longHistory('bulk-start');
  const appDataDir = mkdtempSync(path.join(dataDir, 'bulk-'));
  const { process: service, output, exited } = await startApp('query-service', names, appDataDir);
  try {
    const list = async (minPosition: number) =>
      (
        await nc.request(`${names.subjectPrefix}.query.list`, JSON.stringify({ limit: 1, minPosition, maxWaitMs: 30_000 }), {
          timeout: 30_000,
        })
      ).json<{
        ok: boolean;
        total: number;
      }>();
    // A query waiting for the end of the history is answered once the loaded file is in use.
    expect(await list(history.commits.length)).toMatchObject({ ok: true, total: jobs });
    expect(output()).toContain(`loaded the history in bulk: ${history.commits.length} events`);
    // What comes next is followed live, on the loaded file.
    const next = history.run('create', { jobId: 'after-the-load', label: 'After the load', kind: 'import' });
    await publishCommits(names, [next]);
    expect((await list(next.position)).total).toBe(jobs + 1);
  } finally {
    service.kill('SIGTERM');
    await exited;
  }
  const store = await JetStreamEventStore.open(nc, { stream: names.stream, subjectPrefix: names.subjectPrefix });
  const reference = await referenceReadModels(store, path.join(appDataDir, 'reference.sqlite'));
  expect(readModelRows(activeReadModelFile(appDataDir, names.stream))).toEqual(reference);
});

it('starts over cleanly after being killed in the middle of loading a long history in bulk', async () => {
  const { names } = await longHistory('bulk-killed');
  const appDataDir = mkdtempSync(path.join(dataDir, 'bulk-killed-'));
  const folder = path.join(appDataDir, 'read-models', names.stream);
  const loading = () => readdirSync(folder).filter((name) => /^read-models-\d+\.sqlite$/.test(name));

  const first = await startApp('query-service', names, appDataDir);
  // Killed as soon as the bulk load's file is there, before it is swapped in.
  while (loading().length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  first.process.kill('SIGKILL');
  await first.exited;
  const [interrupted] = loading();
  expect(existsSync(path.join(folder, 'active')), 'the load was over before the kill').toBe(false);

  const { process: service, exited } = await startApp('query-service', names, appDataDir);
  try {
    const head = (await (await jetstreamManager(nc)).streams.info(names.stream)).state.last_seq;
    const reply = (
      await nc.request(`${names.subjectPrefix}.query.list`, JSON.stringify({ limit: 1, minPosition: head, maxWaitMs: 30_000 }), {
        timeout: 30_000,
      })
    ).json<{ ok: boolean }>();
    expect(reply.ok).toBe(true);
  } finally {
    service.kill('SIGTERM');
    await exited;
  }
  expect(readdirSync(folder)).not.toContain(interrupted);
  const store = await JetStreamEventStore.open(nc, { stream: names.stream, subjectPrefix: names.subjectPrefix });
  const reference = await referenceReadModels(store, path.join(appDataDir, 'reference.sqlite'));
  expect(readModelRows(activeReadModelFile(appDataDir, names.stream))).toEqual(reference);
});
