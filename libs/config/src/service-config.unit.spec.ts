import { describe, expect, it } from 'vitest';
import { commandSchemas, MAX_REJECTS_PER_COMMAND } from '#contracts';
import { ConfigError, loadServiceConfig } from './service-config.js';

describe('JOBS_QUERY_WAIT_MS', () => {
  it('is 2 s by default, below the 5 s many clients wait for a reply', () => {
    expect(loadServiceConfig({}).queryWaitMs).toBe(2_000);
  });

  it('takes 1 to 60,000 ms', () => {
    expect(loadServiceConfig({ JOBS_QUERY_WAIT_MS: '60000' }).queryWaitMs).toBe(60_000);
    expect(() => loadServiceConfig({ JOBS_QUERY_WAIT_MS: '60001' })).toThrow(ConfigError);
    expect(() => loadServiceConfig({ JOBS_QUERY_WAIT_MS: '0' })).toThrow(ConfigError);
  });
});

describe('JOBS_MAX_PAYLOAD_BYTES', () => {
  it('lets one reject command carry its most records of a typical size, with every other field at its longest', () => {
    const record = { email: 'someone@example.com', name: 'Someone', country: 'FR' };
    const recordJson = JSON.stringify({ ...record, note: 'x'.repeat(120 - JSON.stringify({ ...record, note: '' }).length) });
    expect(recordJson).toHaveLength(120);
    const body = {
      jobId: 'j'.repeat(128),
      commandId: 'c'.repeat(200),
      expectedVersion: 1_000_000,
      actor: 'a'.repeat(200),
      correlationId: 'r'.repeat(200),
      causationId: 's'.repeat(200),
      records: Array.from({ length: MAX_REJECTS_PER_COMMAND }, (_, i) => ({
        line: 9_000_000 + i,
        reason: `the email address is not valid for line ${i}`.padEnd(60, '.'),
        record: JSON.parse(recordJson),
      })),
    };
    expect(commandSchemas.reject.safeParse(body).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(loadServiceConfig({}).maxPayloadBytes);
  });
});

describe('JOBS_TRUST_ACTOR_SUBJECTS', () => {
  it('is false unless set: an actor named in a subject is not taken as authenticated by default', () => {
    expect(loadServiceConfig({}).trustActorSubjects).toBe(false);
    expect(loadServiceConfig({ JOBS_TRUST_ACTOR_SUBJECTS: 'true' }).trustActorSubjects).toBe(true);
    expect(loadServiceConfig({ JOBS_TRUST_ACTOR_SUBJECTS: 'false' }).trustActorSubjects).toBe(false);
  });

  it('refuses a value that is neither true nor false rather than guess', () => {
    expect(() => loadServiceConfig({ JOBS_TRUST_ACTOR_SUBJECTS: 'ture' })).toThrow(/JOBS_TRUST_ACTOR_SUBJECTS/);
  });
});
