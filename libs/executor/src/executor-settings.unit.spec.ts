import { describe, expect, it } from 'vitest';
import { executorSettingsFromEnv } from './executor-settings.js';
import { sanitizeExecutorId } from './executor.js';

describe('executor settings', () => {
  it('reads the executor and its connection from the environment', () => {
    const settings = executorSettingsFromEnv({
      NATS_URL: 'nats://10.0.0.1:4222',
      NATS_USER: 'executor-1',
      NATS_PASSWORD: 'secret',
      JOBS_SUBJECT_PREFIX: 'acme',
      JOBS_STREAM: 'ACME',
      JOBS_EXECUTOR_ID: 'worker-a',
      JOBS_EXECUTOR_ACTOR: 'executor-1',
      JOBS_EXECUTOR_CONCURRENCY: '8',
      JOBS_LEASE_MS: '5000',
      JOBS_SHUTDOWN_GRACE_MS: '0',
    });
    expect(settings).toEqual({
      nats: {
        servers: 'nats://10.0.0.1:4222',
        user: 'executor-1',
        password: 'secret',
        subjectPrefix: 'acme',
        stream: 'ACME',
        actor: 'executor-1',
      },
      executorId: 'worker-a',
      concurrency: 8,
      leaseMs: 5_000,
      shutdownGraceMs: 0,
    });
  });

  it('refuses a value out of range, naming the variable', () => {
    expect(() => executorSettingsFromEnv({ JOBS_LEASE_MS: '500' })).toThrow(
      /^JOBS_LEASE_MS=500 is not valid: set a whole number from 1000 to 600000/,
    );
    expect(() => executorSettingsFromEnv({ JOBS_EXECUTOR_CONCURRENCY: 'many' })).toThrow(/^JOBS_EXECUTOR_CONCURRENCY=many/);
  });

  it('makes an executor id one subject token', () => {
    expect(sanitizeExecutorId('host.example.com-42')).toBe('host-example-com-42');
    expect(sanitizeExecutorId('a b*c>d')).toBe('a-b-c-d');
  });
});
