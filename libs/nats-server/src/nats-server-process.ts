import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import type { ConnectionOptions } from '@nats-io/nats-core';

export interface NatsServerLaunch {
  /** Address to listen on: 127.0.0.1, localhost or ::1 for a server of this machine only. */
  host: string;
  port: number;
  /** JetStream's store directory. */
  storeDir: string;
  /** How long the server may take to answer a client; 10 s by default. */
  readyTimeoutMs?: number;
  /** What a client connects with to check that the server answers (authentication, TLS); its servers are ignored. */
  connection?: ConnectionOptions;
  /** Its name in a cluster: every JetStream server of one cluster needs its own. */
  serverName?: string;
  /** Joins a cluster: listens for routes on `host:port` and connects to `routes` (other members' route URLs). */
  cluster?: { name: string; port: number; routes: string[] };
  /** A configuration file (`-c`), such as deploy/nats/jobs.conf; the options above come on top of it. */
  configFile?: string;
  /** Environment variables of the server, on top of this process's: those its configuration file reads as `$NAME`. */
  env?: Record<string, string>;
}

/** Why a nats-server could not be started: not on PATH, exited, or did not answer in time. */
export class NatsServerLaunchError extends Error {
  override name = 'NatsServerLaunchError';
}

/** A nats-server with JetStream that this process started, and stops. */
export interface NatsServerProcess {
  readonly url: string;
  readonly pid: number;
  /** The command line it was started with, for the log. */
  readonly commandLine: string;
  /**
   * Stops it with SIGTERM, so it flushes what it acknowledged, and resolves once it has exited;
   * kills it with SIGKILL when it has not exited within `timeoutMs` (10 s by default).
   */
  stop(timeoutMs?: number): Promise<void>;
}

/** The last lines nats-server wrote to stderr are kept, to say why it exited. */
const STDERR_TAIL_CHARS = 2_000;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts `nats-server -js` on `host:port` and resolves once a client connects to it. Rejects with a
 * NatsServerLaunchError when nats-server is not on PATH, exits first (saying what it last logged),
 * or does not answer within `readyTimeoutMs`; it is then killed.
 */
export async function startNatsServer(launch: NatsServerLaunch): Promise<NatsServerProcess> {
  const args = ['-a', launch.host, '-p', String(launch.port), '-js', '-sd', launch.storeDir];
  if (launch.configFile) args.unshift('-c', launch.configFile);
  if (launch.serverName) args.push('--server_name', launch.serverName);
  if (launch.cluster) {
    const { name, port, routes } = launch.cluster;
    args.push('--cluster_name', name, '--cluster', `nats://${hostInUrl(launch.host)}:${port}`, '--routes', routes.join(','));
  }
  const commandLine = `nats-server ${args.join(' ')}`;
  const url = `nats://${hostInUrl(launch.host)}:${launch.port}`;
  const child = await spawnNatsServer(args, commandLine, launch.env);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  // 'close' comes after the exit and the last of stderr, which says why it exited.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const stop = async (timeoutMs = 10_000) => {
    if (hasExited) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const killed = await Promise.race([exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const readyTimeoutMs = launch.readyTimeoutMs ?? 10_000;
  const deadline = Date.now() + readyTimeoutMs;
  while (!hasExited) {
    if (await answers(url, launch.connection, Math.min(1_000, Math.max(100, deadline - Date.now())))) {
      return { url, pid: child.pid!, commandLine, stop };
    }
    if (Date.now() >= deadline) {
      await stop(0);
      throw new NatsServerLaunchError(`${commandLine} did not answer at ${url} within ${readyTimeoutMs} ms`);
    }
    // Whichever comes first: the process exits, or it is time to try again.
    await Promise.race([exited, pause(50)]);
  }
  const why = lastLine(stderr);
  throw new NatsServerLaunchError(
    `${commandLine} exited with ${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode} before it answered at ${url}` +
      (why ? `: ${why}` : ''),
  );
}

function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function spawnNatsServer(args: string[], commandLine: string, env: Record<string, string> | undefined): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'], env: env && { ...process.env, ...env } });
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new NatsServerLaunchError(
          error.code === 'ENOENT'
            ? 'nats-server is not on PATH, so none could be started'
            : `could not run ${commandLine}: ${error.message}`,
        ),
      ),
    );
    child.once('spawn', () => resolve(child));
  });
}

async function answers(url: string, connection: ConnectionOptions | undefined, timeout: number): Promise<boolean> {
  try {
    await (await connect({ ...connection, servers: url, timeout, reconnect: false })).close();
    return true;
  } catch {
    return false;
  }
}

/** The last line nats-server logged, without its pid and time: `[FTL] Can't start JetStream: …`. */
function lastLine(stderr: string): string {
  const line = stderr.trimEnd().split('\n').at(-1) ?? '';
  return line.replace(/^\[\d+\] \S+ \S+ /, '');
}
