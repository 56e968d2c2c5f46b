import type { QueryInput } from '#client';
import { type CliContext, eventsHead, printJson } from '../cli-context.js';
import { eventLine, jobTable } from '../format.js';

/** Redraws at most this often: a running import reports progress several times a second. */
const REDRAW_MS = 250;

const CLEAR_SCREEN = '\u001b[2J\u001b[H';

/**
 * `watch`: the job list, live. On a terminal, the table is redrawn after each change (the list
 * read again, once the read models hold the change); elsewhere (a pipe, a file, `--json`), a line
 * per change, of every job. Until Ctrl-C.
 */
export async function watchJobs(context: CliContext, filters: QueryInput<'list'>): Promise<number> {
  const { client } = context;
  const head = await eventsHead(context);
  const live = context.interactive && !context.json;
  let redraw: Promise<void> = Promise.resolve();
  let pending: NodeJS.Timeout | undefined;
  let seen = head;
  const draw = async (minPosition?: number) => {
    const page = await client.list({ ...filters, minPosition });
    context.write(`${CLEAR_SCREEN}${jobTable(page.items, page)}\nWatching for changes: Ctrl-C to quit.\n`);
  };
  if (live) await draw();
  else context.err('Watching for changes: Ctrl-C to quit.');
  try {
    for await (const event of client.watchAll({ fromPosition: head, signal: context.signal })) {
      if (!live) {
        if (context.json) printJson(context, event);
        else context.out(eventLine(event));
        continue;
      }
      seen = Math.max(seen, event.position);
      if (pending !== undefined) continue;
      pending = setTimeout(() => {
        pending = undefined;
        // One redraw at a time, each reading up to the newest change seen.
        redraw = redraw
          .then(() => draw(seen))
          .catch((error: unknown) =>
            context.err(`could not read the job list (${(error as Error).message}): it is redrawn on the next change`),
          );
      }, REDRAW_MS);
    }
  } finally {
    clearTimeout(pending);
  }
  await redraw;
  return 0;
}
