import { readFileSync } from 'node:fs';
import path from 'node:path';
import { credsAuthenticator, type ConnectionOptions } from '@nats-io/nats-core';
import { z } from 'zod';
import { DEFAULT_SUBJECT_PREFIX, MAX_QUERY_WAIT_MS } from '#contracts';

const positiveInt = z.coerce.number().int().positive();

/** Where NATS is when NATS_URL is not set: the one address at which a service may start its own nats-server. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** Environment variables the services read; README "Configuration" documents each. */
const environmentSchema = z.object({
  NATS_URL: z.string().min(1).default(DEFAULT_NATS_URL),
  NATS_TOKEN: z.string().min(1).optional(),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  NATS_CREDS: z.string().min(1).optional(),
  NATS_TLS_CA: z.string().min(1).optional(),
  NATS_TLS_CERT: z.string().min(1).optional(),
  NATS_TLS_KEY: z.string().min(1).optional(),
  JOBS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a subject prefix is dot-separated tokens without wildcards')
    .default(DEFAULT_SUBJECT_PREFIX),
  JOBS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'a stream name is letters, digits, "-" or "_"')
    .default('JOBS'),
  JOBS_STREAM_REPLICAS: positiveInt.max(5).default(1),
  JOBS_MAX_PAYLOAD_BYTES: positiveInt.default(256 * 1024),
  DATA_DIR: z.string().min(1).default('./.data'),
  // Below the 5 s many clients wait for a reply, so they get TIMEOUT rather than no answer.
  JOBS_QUERY_WAIT_MS: positiveInt.max(MAX_QUERY_WAIT_MS).default(2_000),
  JOBS_EXPORT_TTL_SECONDS: positiveInt.default(24 * 3600),
  // Only a NATS server that enforces deploy/nats/jobs.conf's permissions makes `.as.<actor>` trustworthy.
  JOBS_TRUST_ACTOR_SUBJECTS: z.stringbool().default(false),
  JOBS_LEASE_CHECK_MS: positiveInt.max(60_000).default(1_000),
  LOG_FORMAT: z.enum(['json', 'text']).default('json'),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
});

export interface ServiceConfig {
  natsUrl: string;
  connection: ConnectionOptions;
  subjectPrefix: string;
  stream: string;
  replicas: number;
  maxPayloadBytes: number;
  dataDir: string;
  /** Longest a query waits for its `minPosition` before it answers TIMEOUT, unless it passes its own `maxWaitMs`. */
  queryWaitMs: number;
  /** How long an exported file stays in the object store. */
  exportTtlSeconds: number;
  /**
   * Whether the actor a command's subject names (`<prefix>.cmd.<name>.as.<actor>`) is who sent it:
   * true only where the NATS server lets each user publish under its own name alone.
   */
  trustActorSubjects: boolean;
  /** How often the command side looks for executors' leases that expired, in milliseconds. */
  leaseCheckMs: number;
  logFormat: 'json' | 'text';
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const connection: ConnectionOptions = {
    servers: e.NATS_URL.split(',').map((url) => url.trim()),
    name: 'job-tracking',
    // A stack trace captured for every request is costly, and errors become typed codes at the edge without one.
    noAsyncTraces: true,
    // A service outlives a NATS restart or failover: it keeps reconnecting, never gives up.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
  if (e.NATS_TOKEN) connection.token = e.NATS_TOKEN;
  if (e.NATS_USER) Object.assign(connection, { user: e.NATS_USER, pass: e.NATS_PASSWORD });
  if (e.NATS_CREDS) connection.authenticator = credsAuthenticator(readFileSync(e.NATS_CREDS));
  if (e.NATS_TLS_CA || e.NATS_TLS_CERT) {
    connection.tls = { caFile: e.NATS_TLS_CA, certFile: e.NATS_TLS_CERT, keyFile: e.NATS_TLS_KEY };
  }
  return {
    natsUrl: e.NATS_URL,
    connection,
    subjectPrefix: e.JOBS_SUBJECT_PREFIX,
    stream: e.JOBS_STREAM,
    replicas: e.JOBS_STREAM_REPLICAS,
    maxPayloadBytes: e.JOBS_MAX_PAYLOAD_BYTES,
    dataDir: path.resolve(e.DATA_DIR),
    queryWaitMs: e.JOBS_QUERY_WAIT_MS,
    exportTtlSeconds: e.JOBS_EXPORT_TTL_SECONDS,
    trustActorSubjects: e.JOBS_TRUST_ACTOR_SUBJECTS,
    leaseCheckMs: e.JOBS_LEASE_CHECK_MS,
    logFormat: e.LOG_FORMAT,
    logLevel: e.LOG_LEVEL,
  };
}
