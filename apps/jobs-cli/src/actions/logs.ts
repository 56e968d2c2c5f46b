import type { LogLevel } from '#contracts';
import { type CliContext, eventsHead, FINAL_EVENT_TYPES, printJson } from '../cli-context.js';
import { logLine } from '../format.js';

/** Entries a logs page holds at most. */
const PAGE = 1_000;

/**
 * `logs`: the job's log; with `follow`, new entries as they come until the job ends or Ctrl-C. It
 * watches the job's events and, on each commit, reads the entries after the last one printed, once
 * the read models hold that commit.
 */
export async function showLogs(context: CliContext, jobId: string, options: { follow: boolean; level?: LogLevel[] }): Promise<number> {
  const { client } = context;
  let after: number | undefined;
  const printNew = async (minPosition?: number) => {
    for (;;) {
      const page = await client.logs({ jobId, after, level: options.level, limit: PAGE, minPosition });
      if (context.json) {
        if (page.items.length > 0 || after === undefined) printJson(context, page);
      } else for (const entry of page.items) context.out(logLine(entry));
      if (page.items.length > 0) after = page.items.at(-1)!.id;
      if (page.nextCursor === null) return;
      after = page.nextCursor;
    }
  };
  // The head first: whatever happens after the first read is among the events watched.
  const head = options.follow ? await eventsHead(context) : 0;
  await printNew();
  if (!options.follow) return 0;
  const { job } = await client.get({ jobId });
  if (job.endedAt !== null) return 0;
  let printedUpTo = head;
  for await (const event of client.watch(jobId, { fromPosition: head, signal: context.signal })) {
    if (event.position > printedUpTo) {
      printedUpTo = event.position;
      await printNew(event.position);
    }
    if (FINAL_EVENT_TYPES.has(event.type)) break;
  }
  return 0;
}
