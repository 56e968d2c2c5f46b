/**
 * Reads until `read` gives a value (anything but undefined), every `intervalMs`; after `timeoutMs`
 * fails with what it waited for: `what()` is asked then, so it can show the last state it read.
 */
export async function poll<T>(
  read: () => Promise<T | undefined> | T | undefined,
  what: () => string,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until `check` holds, as `poll` does. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: () => string = () => 'the condition to hold',
  timeoutMs?: number,
): Promise<void> {
  await poll(async () => ((await check()) ? true : undefined), what, timeoutMs);
}

/** Reads a job until `done` says it is as awaited; the failure shows the job as last read. */
export async function untilJob<J>(
  jobId: string,
  read: () => Promise<J>,
  done: (job: J) => boolean,
  what: string,
  timeoutMs?: number,
): Promise<J> {
  let last: J | undefined;
  return poll(
    async () => {
      last = await read();
      return done(last) ? last : undefined;
    },
    () => `job ${jobId} to reach ${what}: ${JSON.stringify(last)}`,
    timeoutMs,
  );
}
