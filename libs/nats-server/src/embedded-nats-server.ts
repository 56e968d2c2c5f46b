import { mkdirSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { errors, type ConnectionOptions } from '@nats-io/nats-core';
import type { LoggerService } from '@nestjs/common';
import { NatsServerLaunchError, startNatsServer, type NatsServerProcess } from './nats-server-process.js';

export interface NatsTarget {
  /** NATS_URL as configured: one server or several, comma-separated. */
  natsUrl: string;
  /** What the service connects with; credentials or TLS in it mean a server of the operator's own is expected. */
  connection: ConnectionOptions;
  /** A nats-server started here keeps its store under `<dataDir>/nats`. */
  dataDir: string;
  /** The one NATS_URL at which a nats-server may be started here: the default one. */
  embeddedUrl: string;
}

/** Why NATS cannot be used, in words that say what to fix. */
export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}

/** How long a server has to answer before it counts as not answering, unless the connection sets its own. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Makes sure a NATS server with JetStream answers at `natsUrl`, and fails closed: a nats-server is
 * started here only where nothing listens at all, at the default NATS_URL, with no credentials or
 * TLS configured. Anywhere else an empty server without auth would stand in for the operator's
 * own (a second, empty job history that anyone may write), so it throws a NatsUnavailableError
 * with the real reason instead: credentials refused, TLS failed, connection refused, no answer.
 */
export async function ensureNatsServer(target: NatsTarget, logger: LoggerService): Promise<NatsServerProcess | null> {
  const { natsUrl, connection, dataDir, embeddedUrl } = target;
  const timeout = connection.timeout ?? CONNECT_TIMEOUT_MS;
  const failure = await connectionFailure(connection, timeout);
  if (failure === null) return null;
  if (!isRefused(failure)) throw new NatsUnavailableError(explain(failure, natsUrl, timeout));
  const expected = expectedSecurity(connection);
  if (expected.length > 0) {
    throw new NatsUnavailableError(
      `no NATS server answers at ${natsUrl} (connection refused), and ${expected.join(', ')} ${expected.length > 1 ? 'are' : 'is'} ` +
        `configured, so none is started here: start yours, the server those settings are for, or check NATS_URL`,
    );
  }
  const storeDir = `${dataDir}/nats`;
  if (natsUrl.trim() !== embeddedUrl) {
    throw new NatsUnavailableError(
      `no NATS server answers at ${natsUrl} (connection refused): start one with JetStream (nats-server -js -sd ${storeDir}), ` +
        `or run "docker compose up -d nats", or point NATS_URL at yours; a service starts a nats-server of its own only ` +
        `at the default NATS_URL (${embeddedUrl}), with no credentials`,
    );
  }
  const url = new URL(embeddedUrl);
  mkdirSync(storeDir, { recursive: true });
  try {
    const server = await startNatsServer({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 4222),
      storeDir,
      connection,
    });
    logger.log(`started ${server.commandLine} (pid ${server.pid})`, 'EmbeddedNats');
    return server;
  } catch (error) {
    if (error instanceof NatsServerLaunchError) {
      throw new NatsUnavailableError(
        `no NATS server answers at ${natsUrl}, and none could be started here (${error.message}): ` +
          `start one with JetStream (nats-server -js -sd ${storeDir}), or run "docker compose up -d nats"`,
      );
    }
    throw error;
  }
}

async function connectionFailure(connection: ConnectionOptions, timeout: number): Promise<Error | null> {
  try {
    await (await connect({ ...connection, timeout, reconnect: false })).close();
    return null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Nothing listens there: the only failure after which a server of this process's own may stand in. */
function isRefused(error: Error): boolean {
  return error instanceof errors.ConnectionError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

/** Node's TLS and OpenSSL error codes: a certificate not trusted, expired, for another host, a key unreadable. */
const TLS_ERROR_CODE =
  /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

function explain(error: Error, natsUrl: string, timeout: number): string {
  if (error instanceof errors.AuthorizationError || error instanceof errors.UserAuthenticationExpiredError) {
    return (
      `NATS at ${natsUrl} refused the credentials (${error.message}): check NATS_USER and NATS_PASSWORD, NATS_TOKEN or ` +
      `NATS_CREDS against the server's users`
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if ((typeof code === 'string' && TLS_ERROR_CODE.test(code)) || /\btls\b/i.test(error.message)) {
    return (
      `TLS with NATS at ${natsUrl} failed (${error.message}): check NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY against ` +
      `the server's certificate and TLS settings`
    );
  }
  if (error instanceof errors.TimeoutError) {
    return `nothing answered as a NATS server at ${natsUrl} within ${timeout} ms: check NATS_URL, and that the server is up and reachable from here`;
  }
  return `could not connect to NATS at ${natsUrl} (${error.message}): check NATS_URL and the server`;
}

/** The settings that say the operator runs a server of their own, by the variables that set them. */
function expectedSecurity(connection: ConnectionOptions): string[] {
  const expected: string[] = [];
  if (connection.token) expected.push('a token (NATS_TOKEN)');
  if (connection.user) expected.push('a user (NATS_USER)');
  if (connection.authenticator) expected.push('credentials (NATS_CREDS)');
  if (connection.tls) expected.push('TLS (NATS_TLS_CA, NATS_TLS_CERT)');
  return expected;
}
