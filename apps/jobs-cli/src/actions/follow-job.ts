import { FINAL_JOB_STATUSES } from '#contracts';
import { type CliContext, FINAL_EVENT_TYPES, printJson } from '../cli-context.js';
import { EXIT, exitCodeForStatus } from '../exit-codes.js';
import { type ListedJob, progressText, statusText } from '../format.js';
import { ProgressDisplay } from '../progress.js';

/** Events that change only the counts the bar shows; any other reads the job again (its status, its executor). */
const COUNT_EVENTS: ReadonlySet<string> = new Set(['ProgressReported', 'RecordsRejected', 'MessageLogged']);

/** The line said when a followed job ends: its status, and its error or its counts. */
export function outcomeLine(job: ListedJob): string {
  const status = statusText(job);
  if (job.lastError && job.status === 'finished_with_error') return `${status}: ${job.lastError.message}`;
  return `${status}: ${progressText(job)} processed, ${job.rejected} rejected`;
}

/**
 * Follows a job from `fromPosition` (the position of a command already seen) with a progress bar
 * until it ends: the job at its end, or null on Ctrl-C (the job goes on). With `--json`, its events
 * one a line instead of the bar.
 */
export async function followJob(context: CliContext, jobId: string, fromPosition: number): Promise<ListedJob | null> {
  const { client } = context;
  let job: ListedJob = (await client.get({ jobId, minPosition: fromPosition })).job;
  const state = () => ({ processed: job.processed, total: job.total, rejected: job.rejected, status: statusText(job) });
  const bar = context.json ? null : new ProgressDisplay(state());
  try {
    if (!FINAL_JOB_STATUSES.has(job.status)) {
      for await (const event of client.watch(jobId, { fromPosition, signal: context.signal })) {
        if (context.json) printJson(context, event);
        if (event.type === 'ProgressReported') job = { ...job, processed: event.data.processed, total: event.data.total ?? job.total };
        else if (event.type === 'RecordsRejected') job = { ...job, rejected: event.data.rejectedTotal };
        else if (!COUNT_EVENTS.has(event.type)) job = (await client.get({ jobId, minPosition: event.position })).job;
        bar?.update(state());
        if (FINAL_EVENT_TYPES.has(event.type)) break;
      }
    }
  } finally {
    bar?.stop();
  }
  if (context.signal.aborted) {
    context.err(`Stopped following job ${jobId}; it goes on: jobs show ${jobId}`);
    return null;
  }
  return job;
}

/** After a followed job: the final line (or reply), and the exit code. */
export function reportOutcome(context: CliContext, job: ListedJob | null): number {
  if (job === null) return EXIT.interrupted;
  if (context.json) printJson(context, { ok: true, job });
  else context.out(outcomeLine(job));
  return exitCodeForStatus(job.status);
}
