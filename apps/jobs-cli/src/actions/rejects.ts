import { type CliContext, printJson } from '../cli-context.js';
import { REJECTS_CSV_HEADER } from '#contracts';
import { rejectLine, rejectsCsvRows } from '../format.js';

const PAGE = 1_000;

/** `rejects`: every page of the job's rejected records, as lines or (`csv`) as CSV with its header. */
export async function showRejects(context: CliContext, jobId: string, options: { csv: boolean }): Promise<number> {
  if (options.csv && !context.json) context.write(REJECTS_CSV_HEADER);
  let cursor: string | undefined;
  let total = 0;
  do {
    const page = await context.client.rejects({ jobId, cursor, limit: PAGE });
    total = page.total;
    if (context.json) printJson(context, page);
    else if (options.csv) context.write(rejectsCsvRows(page.items));
    else for (const reject of page.items) context.out(rejectLine(reject));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  if (!context.json && !options.csv) context.out(`${total} rejected record${total === 1 ? '' : 's'}`);
  return 0;
}
