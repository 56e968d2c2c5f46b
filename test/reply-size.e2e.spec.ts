import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '#config';
import { startJobsMicroservice } from '#service-bootstrap';
import { TEST_NATS_URL } from '#testing/nats';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService('reply-size', { sides: ['commands', 'queries'] });
});

afterAll(async () => {
  await service?.close();
});

describe('a reply over the NATS server’s max_payload', () => {
  it('is PAYLOAD_TOO_LARGE saying how to page, within the client’s timeout, never silence', async () => {
    const { jobId } = await service.command('create', { label: 'Chatty', kind: 'import' });
    let position = 0;
    for (let n = 0; n < 150; n++) {
      position = (await service.command('log', { jobId, level: 'info', message: `${n} ${'x'.repeat(7_990)}` })).position;
    }
    const maxPayload = service.nc.info!.max_payload;
    const subject = `${service.config.subjectPrefix}.query.logs`;
    const body = JSON.stringify({ jobId, limit: 1_000, minPosition: position });
    const reply = (await service.nc.request(subject, body, { timeout: 5_000 })).json<any>();
    expect(reply).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE', limit: maxPayload } });
    expect(reply.error.size).toBeGreaterThan(maxPayload);
    expect(reply.error.message).toBe(
      `the reply is ${reply.error.size} bytes, more than the NATS server's max_payload of ${maxPayload}: ` +
        'ask for fewer items with a smaller limit, and page with the cursor of each reply',
    );
    const page = await service.query('logs', { jobId, limit: 100 });
    expect(page).toMatchObject({ ok: true, items: expect.any(Array) });
    expect(page.items).toHaveLength(100);
  });
});

describe('JOBS_MAX_PAYLOAD_BYTES', () => {
  it('that leaves no room under the server’s max_payload for an event’s metadata stops the service at start, saying what to set', async () => {
    const maxPayload = service.nc.info!.max_payload;
    const config = loadServiceConfig({ NATS_URL: TEST_NATS_URL, JOBS_MAX_PAYLOAD_BYTES: String(maxPayload) });
    await expect(startJobsMicroservice(config, () => [], false)).rejects.toThrow(
      `JOBS_MAX_PAYLOAD_BYTES is ${maxPayload}, but the NATS server's max_payload is ${maxPayload}, and an event needs up to ` +
        `8192 bytes more than its command's body: set JOBS_MAX_PAYLOAD_BYTES to at most ${maxPayload - 8192}, ` +
        "or raise max_payload in the NATS server's configuration",
    );
  });
});
