import { hostname } from 'node:os';
import { DEFAULT_LEASE_MS, JOB_KINDS, type JobEvent, type JobKind } from '#contracts';
import { startDiscovery, type Discovery } from './discovery.js';
import type { ExecutorConnection } from './executor-connection.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import type { JobHandler } from './job-handler.js';
import { JobRun, type ExecutorLogger } from './job-run.js';
import { connectExecutor, type NatsExecutorOptions } from './nats-executor-connection.js';

export interface ExecutorOptions {
  /** How the executor reaches the service; without it, `nats` (the SDK's connection options) is connected to and closed on stop. */
  connection?: ExecutorConnection;
  nats?: NatsExecutorOptions;
  /** This executor's id, one NATS subject token: `<hostname>-<pid>` by default. */
  executorId?: string;
  /** A handler per job kind this executor runs; jobs of other kinds are left to other executors. */
  handlers: Partial<Record<JobKind, JobHandler>>;
  /** Jobs run at once: 4 by default. */
  concurrency?: number;
  /** How long the service waits without a heartbeat before it moves the jobs held to "Server shutdown in progress": 15 s by default. */
  leaseMs?: number;
  /** How long `stop` waits for the handlers to return before it answers for their jobs itself: 10 s by default. */
  shutdownGraceMs?: number;
  /** How often running jobs without an executor are listed while a slot is free: 2 s by default. */
  scanIntervalMs?: number;
  /** Where the executor says what went wrong outside the handlers: standard error by default. */
  logger?: ExecutorLogger;
}

export interface Executor {
  readonly executorId: string;
  /** The jobs whose handler runs now. */
  readonly jobs: readonly string[];
  /**
   * Stops the handlers (their signal fires with 'shutdown'), waits for them up to the grace period,
   * moves the jobs still held to "Server shutdown in progress" saying `executor <id> stopped (<reason>)`,
   * stops the heartbeats and closes the connection it opened.
   */
  stop(reason?: string): Promise<void>;
  /** Resolves once the executor has stopped. */
  readonly closed: Promise<void>;
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export const DEFAULT_SCAN_INTERVAL_MS = 2_000;
/** Jobs held by no run are looked for once every this many scan intervals. */
const ORPHAN_CHECK_SCANS = 5;

/** `<hostname>-<pid>`, as one NATS subject token. */
export function defaultExecutorId(): string {
  return sanitizeExecutorId(`${hostname()}-${process.pid}`);
}

/** Replaces what a NATS subject token may not hold (white space, ".", "*", ">") by "-", within 200 characters. */
export function sanitizeExecutorId(id: string): string {
  return id.replace(/[\s.*>]/g, '-').slice(0, 200) || 'executor';
}

const stderrLogger: ExecutorLogger = (level, message) => console.error(`[executor] ${level}: ${message}`);

/**
 * Starts an executor: it claims the started jobs of its kinds (each start of a job runs on exactly
 * one executor, the one whose claim the service accepted), runs their handlers with a context, carries
 * Pause, Cancel and its own shutdown to them through their signal, and keeps its lease alive.
 */
export async function startExecutor(options: ExecutorOptions): Promise<Executor> {
  const executorId = sanitizeExecutorId(options.executorId ?? defaultExecutorId());
  const kinds = JOB_KINDS.filter((kind) => options.handlers[kind] !== undefined);
  if (kinds.length === 0) throw new Error('startExecutor needs a handler for at least one job kind (import, export)');
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const logger = options.logger ?? stderrLogger;
  // Its commands say who sent them: the NATS user a secured server knows it as, else the executor itself.
  const nats = { ...options.nats, actor: options.nats?.actor ?? options.nats?.user ?? executorId };
  const connection = options.connection ?? (await connectExecutor(nats));
  const ownsConnection = options.connection === undefined;

  /** Jobs being claimed or run: a claim in flight already holds its slot, and its run's signal. */
  const runs = new Map<string, JobRun>();
  const loading = new Set<string>();
  /** Jobs being considered (read, then claimed): `stop` waits for them, so a claim that goes through is answered for. */
  const considering = new Set<Promise<void>>();
  const lifetime = new AbortController();
  let stopping: Promise<void> | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const freeSlots = () => concurrency - runs.size - loading.size;
  const heartbeat: Heartbeat = startHeartbeat(
    (beat) => connection.heartbeat(beat),
    () => ({
      executor: executorId,
      kinds,
      jobs: [...runs.values()].filter((run) => run.holding).map((run) => run.jobId),
      leaseMs,
      at: new Date().toISOString(),
    }),
    leaseMs,
  );

  const consider = async (jobId: string, minPosition?: number) => {
    if (runs.has(jobId) || loading.has(jobId) || freeSlots() <= 0 || lifetime.signal.aborted) return;
    loading.add(jobId);
    let run: JobRun | null = null;
    try {
      const loaded = await connection.loadJob(jobId, minPosition);
      const handler = loaded && options.handlers[loaded.job.kind];
      if (!loaded || !handler || loaded.status !== 'running' || loaded.executor !== null || lifetime.signal.aborted) return;
      // Registered before the claim is sent: a Pause that follows the claim at once finds its run.
      run = new JobRun({ connection, executor: executorId, loaded, handler, logger });
      runs.set(jobId, run);
      loading.delete(jobId);
      const claim = await connection.send('claim', { jobId, executor: executorId, leaseMs });
      if (!claim.ok) {
        runs.delete(jobId);
        run = null;
        // Another executor was first, or the job moved on: nothing to do.
        if (claim.error.code !== 'JOB_CLAIMED' && claim.error.code !== 'INVALID_TRANSITION') {
          logger('warning', `claiming job ${jobId} failed: ${claim.error.message}`);
        }
        return;
      }
      const started = run;
      void started.start().finally(() => {
        runs.delete(jobId);
        heartbeat.beatNow();
        discovery?.scanSoon();
      });
      heartbeat.beatNow();
    } catch (error) {
      if (run !== null && runs.get(jobId) === run && !run.holding) runs.delete(jobId);
      logger('warning', `taking job ${jobId} failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      loading.delete(jobId);
      if (run === null && freeSlots() > 0) discovery?.scanSoon();
    }
  };

  const onEvent = (event: JobEvent) => {
    const run = runs.get(event.jobId);
    // Events up to the version the run was loaded at belong to earlier runs.
    if (!run || event.version <= run.loadedVersion) return;
    if (event.type === 'PauseRequested') run.stop('pause');
    else if (event.type === 'CancellationRequested') run.stop('cancel');
    else if (event.type === 'Claimed' && event.data.executor !== executorId) run.stop('ended');
    else if (event.type === 'Paused' || event.type === 'ServerShutdown' || event.type === 'Started' || endsJob(event)) run.stop('ended');
  };

  /**
   * Jobs the service says this executor holds but no run of it does: left by an earlier process with
   * the same id (a container's `<hostname>-1` restarted), or a run whose last command never reached
   * the service. Its heartbeats would keep their lease alive with nobody running them, so they are
   * shut down for Start to run them again. A job listed late (its run just ended) is refused by the
   * service: no harm.
   */
  const releaseOrphans = async (reason: string) => {
    for (const jobId of await connection.jobsHeldBy(executorId)) {
      if (runs.has(jobId) || loading.has(jobId)) continue;
      const result = await connection.send('shutdown', { jobId, executor: executorId, reason: `executor ${executorId} ${reason}` });
      if (result.ok) logger('warning', `job ${jobId}: held under this executor id by no run; moved to server shutdown`);
    }
  };
  const orphanCheck = setInterval(
    () => {
      releaseOrphans('lost its run of the job: the run ended without reaching the service').catch((error) =>
        logger('warning', `looking for jobs held by no run failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    },
    ORPHAN_CHECK_SCANS * (options.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS),
  );
  orphanCheck.unref();

  let discovery: Discovery | null = null;
  try {
    await releaseOrphans('started again: the run it held before was lost');
    discovery = await startDiscovery({
      connection,
      kinds,
      scanIntervalMs: options.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS,
      logger,
      signal: lifetime.signal,
      onEvent,
      onCandidate: (jobId, minPosition) => {
        const taking = consider(jobId, minPosition);
        considering.add(taking);
        void taking.finally(() => considering.delete(taking));
      },
      hasFreeSlot: () => freeSlots() > 0,
    });
  } catch (error) {
    clearInterval(orphanCheck);
    heartbeat.stop();
    lifetime.abort();
    if (ownsConnection) await connection.close();
    throw error;
  }

  const stopNow = async (reason: string | undefined) => {
    const shutdownReason = `executor ${executorId} stopped${reason ? ` (${reason})` : ''}`;
    lifetime.abort();
    clearInterval(orphanCheck);
    await Promise.all(considering);
    for (const run of runs.values()) run.stop('shutdown', shutdownReason);
    const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...runs.values()].map((run) => run.done)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, grace);
      }),
    ]);
    clearTimeout(timer);
    // Handlers that did not return in time: the executor answers for their jobs.
    await Promise.all(
      [...runs.values()].map(async (run) => {
        if (!run.holding) return;
        run.release();
        const result = await connection.send('shutdown', { jobId: run.jobId, executor: executorId, reason: shutdownReason });
        if (!result.ok && result.error.code !== 'JOB_CLAIMED' && result.error.code !== 'INVALID_TRANSITION') {
          logger('warning', `job ${run.jobId}: shutdown not applied: ${result.error.message}`);
        }
      }),
    );
    heartbeat.stop();
    await discovery?.stopped;
    if (ownsConnection) await connection.close();
  };

  return {
    executorId,
    get jobs() {
      return [...runs.values()].filter((run) => run.holding).map((run) => run.jobId);
    },
    stop(reason) {
      stopping ??= stopNow(reason).finally(resolveClosed);
      return stopping;
    },
    closed,
  };
}

function endsJob(event: JobEvent): boolean {
  return event.type === 'Finished' || event.type === 'Errored' || event.type === 'Cancelled';
}
