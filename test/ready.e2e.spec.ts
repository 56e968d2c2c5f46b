import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobStreams } from '../libs/read-models/src/job-streams.test-support.js';
import { connectTestNats, deleteStream, isolation, TEST_NATS_URL } from './support/nats.js';

const names = isolation('ready');
const dataDir = mkdtempSync(path.join(tmpdir(), 'ready-'));
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connectTestNats();
});

afterAll(async () => {
  await deleteStream(nc, names.stream);
  await nc.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('answers a query sent the moment it says ready, while it catches up with the stream', async () => {
  // A stream for the service to catch up with as it starts: its event loop is busy right away.
  const streams = new JobStreams();
  for (let n = 0; n < 20_000; n++) streams.run('create', { jobId: `job-${n}`, label: `Job ${n}`, kind: 'import' });
  const js = jetstream(nc);
  await (await jetstreamManager(nc)).streams.add({ name: names.stream, subjects: [`${names.subjectPrefix}.events.>`] });
  for (let i = 0; i < streams.commits.length; i += 1_000) {
    await Promise.all(streams.commits.slice(i, i + 1_000).map((commit) => js.publish(`${names.subjectPrefix}.events.${commit.jobId}`, JSON.stringify(commit.events))));
  }

  for (let attempt = 0; attempt < 3; attempt++) {
    const service = spawn(process.execPath, [path.resolve('dist/apps/job-service/src/main.js')], {
      env: { ...process.env, NATS_URL: TEST_NATS_URL, JOBS_STREAM: names.stream, JOBS_SUBJECT_PREFIX: names.subjectPrefix, DATA_DIR: path.join(dataDir, String(attempt)), LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => service.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        let output = '';
        service.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes(' ready in ')) resolve();
        });
        service.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const reply = (await nc.request(`${names.subjectPrefix}.query.list`, JSON.stringify({ limit: 1 }), { timeout: 10_000 })).json<{ ok: boolean }>();
      expect(reply.ok).toBe(true);
    } finally {
      service.kill('SIGTERM');
      await exited;
    }
  }
});
