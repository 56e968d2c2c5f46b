import { spawn } from 'node:child_process';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTestNats, deleteStream, isolation, TEST_NATS_URL } from './support/nats.js';

const names = isolation('shutdown');
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connectTestNats();
});

afterAll(async () => {
  await deleteStream(nc, names.stream);
  await nc.close();
});

it('finishes the commands in flight on SIGTERM, then exits 0', async () => {
  const service = spawn(process.execPath, [path.resolve('dist/apps/command-service/src/main.js')], {
    env: { ...process.env, NATS_URL: TEST_NATS_URL, JOBS_STREAM: names.stream, JOBS_SUBJECT_PREFIX: names.subjectPrefix, LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    service.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(' ready in ')) resolve();
    });
    service.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => service.once('exit', (code) => resolve(code)));

  const requests = Array.from({ length: 300 }, (_, i) =>
    nc
      .request(`${names.subjectPrefix}.cmd.create`, JSON.stringify({ jobId: `job-${i}`, label: `Job ${i}`, kind: 'import' }), { timeout: 5_000 })
      .then((reply) => ({ reply: reply.json<{ ok: boolean; jobId: string }>() }))
      .catch((error: Error & { isNoResponders?: () => boolean }) => ({ error })),
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  service.kill('SIGTERM');
  const results = await Promise.all(requests);
  expect(await exited).toBe(0);
  expect(output).toContain('finishing requests in flight');

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
