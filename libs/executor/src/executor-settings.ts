import { connectionOptionsFromEnv } from '#client';
import { MAX_LEASE_MS, MIN_LEASE_MS } from '#contracts';
import type { ExecutorOptions } from './executor.js';

/**
 * An executor's options from its environment: the NATS connection as the service reads it (NATS_URL,
 * NATS_TOKEN, NATS_USER, ...), JOBS_SUBJECT_PREFIX, JOBS_STREAM, JOBS_MAX_PAYLOAD_BYTES, and its own
 * JOBS_EXECUTOR_ID, JOBS_EXECUTOR_ACTOR (commands sent as `.as.<actor>`; NATS_USER, else the executor id, by default), JOBS_EXECUTOR_CONCURRENCY,
 * JOBS_LEASE_MS and JOBS_SHUTDOWN_GRACE_MS. A value that is not a whole number in range throws, naming the variable.
 */
export function executorSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<ExecutorOptions, 'handlers' | 'connection'> {
  const settings: Omit<ExecutorOptions, 'handlers' | 'connection'> = {
    nats: {
      ...connectionOptionsFromEnv(env),
      ...(env.JOBS_SUBJECT_PREFIX ? { subjectPrefix: env.JOBS_SUBJECT_PREFIX } : {}),
      ...(env.JOBS_STREAM ? { stream: env.JOBS_STREAM } : {}),
      ...(env.JOBS_EXECUTOR_ACTOR ? { actor: env.JOBS_EXECUTOR_ACTOR } : {}),
      ...wholeNumber(env, 'JOBS_MAX_PAYLOAD_BYTES', 'maxPayloadBytes', 1_024, 64 * 1024 * 1024),
    },
    ...(env.JOBS_EXECUTOR_ID ? { executorId: env.JOBS_EXECUTOR_ID } : {}),
    ...wholeNumber(env, 'JOBS_EXECUTOR_CONCURRENCY', 'concurrency', 1, 1_000),
    ...wholeNumber(env, 'JOBS_LEASE_MS', 'leaseMs', MIN_LEASE_MS, MAX_LEASE_MS),
    ...wholeNumber(env, 'JOBS_SHUTDOWN_GRACE_MS', 'shutdownGraceMs', 0, 3_600_000),
  };
  return settings;
}

function wholeNumber<K extends string>(env: NodeJS.ProcessEnv, name: string, key: K, min: number, max: number): Partial<Record<K, number>> {
  const text = env[name];
  if (text === undefined || text === '') return {};
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${text} is not valid: set a whole number from ${min} to ${max}, or leave it unset for the default`);
  }
  return { [key]: value } as Partial<Record<K, number>>;
}
