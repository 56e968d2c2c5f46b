import { JOB_STATUS_LABELS, type CommandOkReply, type JobKind, type RejectPolicy } from '#contracts';
import type { QueryInput } from '#client';
import { type CliContext, printJson } from '../cli-context.js';
import { historyLine, jobDetails, jobTable } from '../format.js';

/** `list`: one page of the job list, as a table. */
export async function listJobs(context: CliContext, filters: QueryInput<'list'>): Promise<number> {
  const reply = await context.client.list(filters);
  if (context.json) printJson(context, reply);
  else context.out(jobTable(reply.items, reply));
  return 0;
}

/** `show`: one job, a field a line. */
export async function showJob(context: CliContext, jobId: string): Promise<number> {
  const reply = await context.client.get({ jobId });
  if (context.json) printJson(context, reply);
  else context.out(jobDetails(reply.job));
  return 0;
}

function printCommandReply(context: CliContext, reply: CommandOkReply, what: string): void {
  if (context.json) printJson(context, reply);
  else context.out(`${what} ${reply.jobId}: ${JOB_STATUS_LABELS[reply.status]}`);
}

export interface CreateInput {
  label: string;
  kind: JobKind;
  definition?: Record<string, unknown>;
  rejectPolicy?: RejectPolicy;
  jobId?: string;
}

/** `create`: a job in "Editing in progress". */
export async function createJob(context: CliContext, input: CreateInput): Promise<number> {
  printCommandReply(context, await context.client.create(input), 'Created job');
  return 0;
}

const LIFECYCLE_VERBS = { start: 'Started', pause: 'Pause requested for', cancel: 'Cancellation requested for' } as const;

/** `start`, `pause`, `cancel`: the command, and the status it led to. */
export async function changeJob(context: CliContext, command: keyof typeof LIFECYCLE_VERBS, jobId: string): Promise<number> {
  printCommandReply(context, await context.client.command(command, { jobId }), LIFECYCLE_VERBS[command]);
  return 0;
}

/** `history`: every page of the job's events (up to `atVersion`), then the job as it was there. */
export async function showHistory(context: CliContext, jobId: string, atVersion: number | undefined): Promise<number> {
  let cursor: string | undefined;
  let state = null;
  do {
    const page = await context.client.history({ jobId, atVersion, cursor });
    if (context.json) printJson(context, page);
    else for (const event of page.events) context.out(historyLine(event));
    if (!context.json)
      for (const { position, reason } of page.quarantined) context.out(`(commit at position ${position} left out: ${reason})`);
    state = page.state;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  if (!context.json)
    context.out(
      state === null
        ? '\nThe job did not exist yet.'
        : `\nAt version ${state.version}:\n${jobDetails(state)}\nDefinition: ${JSON.stringify(state.definition)}`,
    );
  return 0;
}
