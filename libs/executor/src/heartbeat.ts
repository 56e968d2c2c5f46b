import type { ExecutorHeartbeat } from '#contracts';

export interface Heartbeat {
  /** Beats at once (a job was just claimed), then on the usual rhythm. */
  beatNow(): void;
  stop(): void;
}

/**
 * Publishes `beat()` every `leaseMs / 3`, so that two beats may be lost before the service's lease
 * monitor, which waits `leaseMs` without one, moves the jobs held to "Server shutdown in progress".
 * Beats come from the event loop: a handler that blocks it for longer than the lease loses its jobs.
 */
export function startHeartbeat(publish: (beat: ExecutorHeartbeat) => void, beat: () => ExecutorHeartbeat, leaseMs: number): Heartbeat {
  const everyMs = Math.max(1, Math.floor(leaseMs / 3));
  const send = () => {
    try {
      publish(beat());
    } catch {
      // A connection that is reconnecting refuses a publish: the next beat goes once it is back.
    }
  };
  let timer: NodeJS.Timeout | null = null;
  const schedule = () => {
    if (timer !== null) clearInterval(timer);
    timer = setInterval(send, everyMs);
    timer.unref();
  };
  send();
  schedule();
  return {
    beatNow() {
      if (timer === null) return;
      send();
      schedule();
    },
    stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
