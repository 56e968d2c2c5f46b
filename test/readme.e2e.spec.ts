import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NATS_URL } from '#testing/nats';
import { startTestService, type TestService } from '#testing/service';

const run = promisify(execFile);
let service: TestService;

beforeAll(async () => {
  service = await startTestService('readme', { sides: ['commands', 'queries'] });
});

afterAll(async () => {
  await service?.close();
});

/** The README's `req` shell function, as a reader copies it. */
function readmeRequestFunction(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const line = readme.split('\n').find((text) => text.startsWith('req() {'));
  if (!line) throw new Error('the README no longer defines req()');
  return line;
}

describe("the README's quick start", () => {
  it('sends commands and queries with the req function it shows, and prints the replies', async () => {
    const req = async (subject: string, body: unknown) => {
      const script = `${readmeRequestFunction()}\nreq "$1" "$2"`;
      const { stdout } = await run('bash', ['-c', script, 'bash', `${service.config.subjectPrefix}.${subject}`, JSON.stringify(body)], {
        env: { ...process.env, NATS_URL: TEST_NATS_URL },
      });
      return JSON.parse(stdout);
    };
    const created = await req('cmd.create', { label: 'Nightly contacts import', kind: 'import', actor: 'alice', commandId: 'c-1' });
    expect(created).toMatchObject({ ok: true, version: 1, status: 'editing' });
    const started = await req('cmd.start', { jobId: created.jobId, actor: 'alice' });
    expect(started).toMatchObject({ ok: true, version: 2, status: 'running' });
    const job = await req('query.get', { jobId: created.jobId, minPosition: started.position });
    expect(job).toMatchObject({ ok: true, job: { statusLabel: 'Execution in progress', createdBy: 'alice' } });
  });
});
