import type { LoggerService } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '#testing/service';

let service: TestService;
let logged: string[] = [];

/** Every line the service logs, whatever its level. */
const capture: LoggerService = Object.fromEntries(
  ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'].map((level) => [
    level,
    (...parts: unknown[]) =>
      logged.push(parts.map((part) => (part instanceof Error ? (part.stack ?? part.message) : String(part))).join(' ')),
  ]),
) as unknown as LoggerService;

beforeAll(async () => {
  service = await startTestService('edge-input', { sides: ['commands', 'queries'] });
  service.instances[0]!.useLogger(capture);
});

afterAll(async () => {
  await service?.close();
});

beforeEach(() => {
  logged = [];
});

/** JSON `[[[…"deep"…]]]`, `levels` arrays deep. */
function nested(levels: number): string {
  return `${'['.repeat(levels)}"deep"${']'.repeat(levels)}`;
}

function commandBytes(name: string, json: string | Uint8Array): Promise<any> {
  return service.request(`${service.config.subjectPrefix}.cmd.${name}`, json);
}

describe('JSON nested deeper than the limit', () => {
  it('is VALIDATION_FAILED in a definition, naming the limit, with nothing appended and no stack trace logged', async () => {
    const before = await service.lastSequence();
    const reply = await commandBytes('create', `{"label":"Deep","kind":"import","definition":{"rules":${nested(4_105)}}}`);
    expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('64 levels') } });
    expect(await service.lastSequence()).toBe(before);
    expect(logged.length).toBeLessThanOrEqual(1);
    expect(logged.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('is VALIDATION_FAILED in a reject record', async () => {
    const { jobId } = await service.command('create', { label: 'Deep rejects', kind: 'import' });
    await service.command('start', { jobId });
    const before = await service.lastSequence();
    const reply = await commandBytes('reject', `{"jobId":"${jobId}","records":[{"line":1,"reason":"deep","record":${nested(4_105)}}]}`);
    expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('64 levels') } });
    expect(await service.lastSequence()).toBe(before);
    expect(logged.length).toBeLessThanOrEqual(1);
    expect(logged.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('is VALIDATION_FAILED on a query too, and 64 levels are accepted', async () => {
    const deepQuery = await service.request(`${service.config.subjectPrefix}.query.list`, `{"text":${nested(65)}}`);
    expect(deepQuery).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('64 levels') } });
    // The body is one level: a definition of 62 more levels holds an array 63 deep at most.
    const reply = await commandBytes('create', `{"label":"Just deep enough","kind":"import","definition":{"rules":${nested(62)}}}`);
    expect(reply).toMatchObject({ ok: true });
  });
});

describe('a body that is not UTF-8', () => {
  it('is VALIDATION_FAILED, not read with replacement characters', async () => {
    const { jobId } = await service.command('create', { label: 'Latin-1 rejects', kind: 'import' });
    await service.command('start', { jobId });
    const before = await service.lastSequence();
    const json = Buffer.from(`{"jobId":"${jobId}","records":[{"line":1,"reason":"bad","record":"caf\u00e9"}]}`, 'latin1');
    const reply = await commandBytes('reject', json);
    expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('UTF-8') } });
    expect(await service.lastSequence()).toBe(before);
  });
});

describe('a body whose events would be larger than the NATS server takes', () => {
  it('is PAYLOAD_TOO_LARGE, not INTERNAL, and appends nothing', async () => {
    const { jobId } = await service.command('create', { label: 'Growing numbers', kind: 'import' });
    await service.command('start', { jobId });
    // 1E20 is 4 bytes as sent and 21 once written out again: 250 KB of it make events over 1 MB.
    const json = `{"jobId":"${jobId}","records":[{"line":1,"reason":"wide","record":[${Array(50_000).fill('1E20').join(',')}]}]}`;
    expect(json.length).toBeLessThan(service.config.maxPayloadBytes);
    const maxPayload = service.nc.info!.max_payload;
    const before = await service.lastSequence();
    const reply = await commandBytes('reject', json);
    expect(reply).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE', limit: maxPayload } });
    expect(reply.error.size).toBeGreaterThan(maxPayload);
    expect(reply.error.message).toContain('send the records in several reject commands of fewer records');
    expect(await service.lastSequence()).toBe(before);
    expect(logged.join('\n')).not.toMatch(/\n\s+at /);
  });
});
