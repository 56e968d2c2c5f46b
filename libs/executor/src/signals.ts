/** What `stopOnSignals` stops: an executor, or anything that stops the same way. */
export interface Stoppable {
  stop(reason?: string): Promise<void>;
}

export interface StopOnSignalsOptions {
  signals?: NodeJS.Signals[];
  /** Called at a second signal: `process.exit(130)` by default. */
  exitNow?: () => void;
}

/**
 * For a main(): the first SIGTERM or SIGINT stops the executor (its jobs move to "Server shutdown in
 * progress", see `stop`), naming the signal as the reason; a second one exits at once. Returns a
 * function that removes the listeners.
 */
export function stopOnSignals(executor: Stoppable, options: StopOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exitNow = options.exitNow ?? (() => process.exit(130));
  let received = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      exitNow();
      return;
    }
    received = true;
    void executor.stop(signal);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
