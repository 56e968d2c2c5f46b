import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions, type TlsOptions } from '@nats-io/nats-core';

/** How to reach and authenticate to the NATS server the service uses: the ways its README's "Configuration" lists. */
export interface JobsConnectionOptions {
  /** NATS server URL(s); `nats://127.0.0.1:4222` by default. */
  servers?: string | string[];
  token?: string;
  user?: string;
  password?: string;
  /** Path of a `.creds` file (JWT and NKey seed). */
  credsFile?: string;
  /** TLS: `caFile`, and `certFile` with `keyFile` for a client certificate. */
  tls?: TlsOptions;
  /** Any further nats.js connection option, applied last. */
  nats?: Partial<ConnectionOptions>;
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** nats.js connection options for `options`: a client that keeps reconnecting, so that a lost connection is a retry, not an end. */
export function natsConnectionOptions(options: JobsConnectionOptions = {}): ConnectionOptions {
  const servers = options.servers ?? DEFAULT_NATS_URL;
  const connection: ConnectionOptions = {
    servers: typeof servers === 'string' ? servers.split(',').map((url) => url.trim()) : servers,
    name: 'job-tracking-client',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  };
  if (options.token) connection.token = options.token;
  if (options.user) Object.assign(connection, { user: options.user, pass: options.password });
  if (options.credsFile) {
    const { credsFile } = options;
    // Read at each (re)connection: a rotated file is picked up without a restart.
    connection.authenticator = credsAuthenticator(() => readFileSync(credsFile));
  }
  if (options.tls) connection.tls = options.tls;
  return { ...connection, ...options.nats };
}

/**
 * The connection options the service itself reads from its environment (NATS_URL, NATS_TOKEN,
 * NATS_USER and NATS_PASSWORD, NATS_CREDS, NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY), for a client
 * deployed beside it.
 */
export function connectionOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): JobsConnectionOptions {
  const options: JobsConnectionOptions = { servers: env.NATS_URL || DEFAULT_NATS_URL };
  if (env.NATS_TOKEN) options.token = env.NATS_TOKEN;
  if (env.NATS_USER) Object.assign(options, { user: env.NATS_USER, password: env.NATS_PASSWORD });
  if (env.NATS_CREDS) options.credsFile = env.NATS_CREDS;
  if (env.NATS_TLS_CA || env.NATS_TLS_CERT)
    options.tls = { caFile: env.NATS_TLS_CA, certFile: env.NATS_TLS_CERT, keyFile: env.NATS_TLS_KEY };
  return options;
}
