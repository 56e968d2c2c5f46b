import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, listens } from '#testing/private-nats';
import { startSecuredNats, type SecuredNats } from '#testing/secured-nats';

/** The built job service, started as `npm start` starts it, never fails open: it exits with the reason. */
const scratch = mkdtempSync(path.join(tmpdir(), 'auth-start-'));
let nats: SecuredNats;

beforeAll(async () => {
  nats = await startSecuredNats('auth-start');
});

afterAll(async () => {
  await nats?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface Run {
  /** Its exit code; null while it still runs (it said it was ready, and was then stopped). */
  code: number | null;
  output: string;
  ms: number;
}

/** Runs the built job service until it exits, or says it is ready (then stops it with SIGTERM); 20 s at most. */
function runService(env: Record<string, string>): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.resolve('dist/apps/job-service/src/main.js')], {
    // HTTP_PORT 0: the job service also serves HTTP, on any free port beside the other tests.
    env: { ...process.env, DATA_DIR: mkdtempSync(path.join(scratch, 'data-')), LOG_FORMAT: 'json', HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let stopping = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      // Once: a second SIGTERM during the graceful stop would kill it.
      if (!stopping && output.includes(' ready in ')) stopping = child.kill('SIGTERM');
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: performance.now() - started });
    });
  });
}

it('exits at once with NATS_TOKEN set and no server at NATS_URL, saying why, and starts no nats-server there', async () => {
  const url = `nats://127.0.0.1:${await freePort()}`;
  const run = await runService({ NATS_URL: url, NATS_TOKEN: 's3cret' });
  expect(run.code).toBe(1);
  expect(run.output).toContain(
    `no NATS server answers at ${url} (connection refused), and a token (NATS_TOKEN) is configured, so none is started here: start yours`,
  );
  expect(run.output).not.toContain('started nats-server');
  expect(run.ms).toBeLessThan(5_000);
  expect(await listens(url)).toBe(false);
});

it('exits at once when the server refuses its password, saying so rather than that no server answers', async () => {
  const run = await runService({ NATS_URL: nats.url, NATS_USER: 'service', NATS_PASSWORD: 'wrong' });
  expect(run.code).toBe(1);
  expect(run.output).toContain(`NATS at ${nats.url} refused the credentials (Authorization Violation): check NATS_USER and NATS_PASSWORD`);
  expect(run.output).not.toContain('no NATS server answers');
  expect(run.ms).toBeLessThan(5_000);
});

it('starts as the service user on the server of deploy/nats/jobs.conf, and stops gracefully', async () => {
  const run = await runService({
    NATS_URL: nats.url,
    NATS_USER: 'service',
    NATS_PASSWORD: nats.passwords.service,
    JOBS_TRUST_ACTOR_SUBJECTS: 'true',
  });
  expect(run.output).toContain(' ready in ');
  expect(run.code).toBe(0);
});
