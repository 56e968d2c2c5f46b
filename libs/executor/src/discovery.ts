import type { JobEvent, JobKind } from '#contracts';
import type { ExecutorConnection } from './executor-connection.js';
import type { ExecutorLogger } from './job-run.js';

export interface DiscoveryOptions {
  connection: ExecutorConnection;
  kinds: JobKind[];
  /** How often the running jobs without an executor are listed while a slot is free. */
  scanIntervalMs: number;
  logger: ExecutorLogger;
  signal: AbortSignal;
  /** Every event of every job, in stream order. */
  onEvent(event: JobEvent): void;
  /** A job that may wait for an executor: from a scan, or its Started event (with that event's position). */
  onCandidate(jobId: string, minPosition?: number): void;
  hasFreeSlot(): boolean;
}

export interface Discovery {
  /** Lists the waiting jobs now (a slot was freed) rather than at the next tick. */
  scanSoon(): void;
  /** Resolves once the feed and the scans have stopped (the signal aborted). */
  stopped: Promise<void>;
}

/** Wait before the event feed is opened again after it failed. */
const FEED_RETRY_MS = 1_000;

/**
 * How an executor learns of jobs to run and of what happens to the jobs it runs: the live event feed
 * (Started, PauseRequested, CancellationRequested, ...) and, for what the feed cannot tell (jobs
 * started before the executor, or while all its slots were taken), a scan of the running jobs without
 * an executor, at start and every `scanIntervalMs` while a slot is free. Resolves once the feed's
 * starting point is fixed and the first scan is made, so nothing started before or after is missed.
 * A feed that fails is opened again after the last event it gave, so no Pause is lost with it.
 */
export async function startDiscovery(options: DiscoveryOptions): Promise<Discovery> {
  const { connection, signal, logger } = options;
  // Fixed before the first scan: what is started after it comes through the feed.
  let lastPosition = await connection.headPosition();

  const follow = async () => {
    while (!signal.aborted) {
      try {
        for await (const event of connection.followEvents(lastPosition, signal)) {
          lastPosition = event.position;
          if (event.type === 'Started') options.onCandidate(event.jobId, event.position);
          options.onEvent(event);
        }
        if (!signal.aborted) logger('warning', 'the event feed ended: opening it again');
      } catch (error) {
        if (!signal.aborted)
          logger('warning', `the event feed failed (${error instanceof Error ? error.message : String(error)}): opening it again`);
      }
      await sleep(FEED_RETRY_MS, signal);
    }
  };

  let scanning: Promise<void> | null = null;
  const scan = () => {
    if (scanning !== null || signal.aborted || !options.hasFreeSlot()) return;
    scanning = connection
      .waitingJobs(options.kinds)
      .then((jobIds) => {
        for (const jobId of jobIds) {
          if (!options.hasFreeSlot()) break;
          options.onCandidate(jobId);
        }
      })
      .catch((error) => logger('warning', `listing the waiting jobs failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        scanning = null;
      });
  };

  const timer = setInterval(scan, options.scanIntervalMs);
  timer.unref();
  const following = follow();
  scan();
  await scanning;
  const stopped = new Promise<void>((resolve) => {
    const end = () => {
      clearInterval(timer);
      void Promise.all([following, scanning]).then(() => resolve());
    };
    if (signal.aborted) end();
    else signal.addEventListener('abort', end, { once: true });
  });
  return { scanSoon: scan, stopped };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
