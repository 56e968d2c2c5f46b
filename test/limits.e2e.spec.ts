import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;

// The service's defaults: no JOBS_QUERY_WAIT_MS, no JOBS_MAX_PAYLOAD_BYTES.
beforeAll(async () => {
  service = await startTestService('limits', { sides: ['commands', 'queries'] });
});

afterAll(async () => {
  await service?.close();
});

/** A request as a client with its own timeout sends it: the reply, and how long it took. */
async function timedRequest(subject: string, body: unknown, timeout: number): Promise<{ reply: any; ms: number }> {
  const started = performance.now();
  const reply = (await service.nc.request(`${service.config.subjectPrefix}.${subject}`, JSON.stringify(body), { timeout })).json();
  return { reply, ms: performance.now() - started };
}

describe("a query's wait for its minPosition", () => {
  const farAhead = 10_000_000;

  it('answers TIMEOUT after its maxWaitMs, well within a 1 s client timeout, saying what to do', async () => {
    const { reply, ms } = await timedRequest('query.list', { minPosition: farAhead, maxWaitMs: 100 }, 1_000);
    expect(reply).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
    expect(reply.error.message).toMatch(/^the read models are at position \d+, not yet at minPosition 10000000, after 100 ms: /);
    expect(reply.error.message).toContain('retry, or pass a larger maxWaitMs');
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(600);
  });

  it('answers TIMEOUT before a 5 s client timeout without maxWaitMs', async () => {
    const { reply, ms } = await timedRequest('query.get', { jobId: 'any-job', minPosition: farAhead }, 5_000);
    expect(reply).toMatchObject({ ok: false, error: { code: 'TIMEOUT', message: expect.stringContaining('after 2000 ms') } });
    expect(ms).toBeLessThan(4_000);
  });

  it('answers at once when the read models are already there, whatever maxWaitMs', async () => {
    const created = await service.command('create', { label: 'Waited for', kind: 'import' });
    await service.query('get', { jobId: created.jobId, minPosition: created.position });
    const { reply } = await timedRequest('query.get', { jobId: created.jobId, minPosition: created.position, maxWaitMs: 0 }, 1_000);
    expect(reply).toMatchObject({ ok: true, job: { jobId: created.jobId } });
  });
});

describe('a reject over the payload limit', () => {
  it('answers PAYLOAD_TOO_LARGE saying to split the records into several reject commands, and appends nothing', async () => {
    const { jobId } = await service.command('create', { label: 'Big rejects', kind: 'import' });
    await service.command('start', { jobId });
    const records = Array.from({ length: 1_000 }, (_, i) => ({ line: i + 1, reason: 'bad row', record: { raw: 'x'.repeat(300) } }));
    const before = await service.lastSequence();
    const reply = await service.command('reject', { jobId, records });
    expect(reply).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE', limit: 256 * 1024 } });
    expect(reply.error.message).toContain('send the records in several reject commands of fewer records');
    expect(await service.lastSequence()).toBe(before);
  });
});
