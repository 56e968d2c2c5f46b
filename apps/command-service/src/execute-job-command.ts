import { createHash, randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { COMMAND_TOO_LARGE_ADVICE, errorReply, type CommandBody, type CommandName, type CommandOkReply, type ErrorReply } from '#contracts';
import { decide, type CommandContext, type JobCommand } from '#domain';
import { AppendTimeout, CommitTooLarge, ConcurrencyError, EVENT_STORE, type EventStore } from '#event-store';
import { commandDigest } from './command-digest.js';
import { JobRepository, type LoadedJob } from './job-repository.js';

export type CommandReply = CommandOkReply | ErrorReply;

/** A validated `jobs.cmd.<name>` request. */
export class ExecuteJobCommand extends Command<CommandReply> {
  constructor(
    readonly name: CommandName,
    readonly body: CommandBody,
    /** Whether the NATS server vouched for `body.actor`; only the transport can tell. */
    readonly actorAuthenticated = false,
  ) {
    super();
  }
}

export const COMMAND_ATTEMPTS = Symbol('COMMAND_ATTEMPTS');
/** Appends tried on one command before it is answered CONCURRENCY_CONFLICT. */
export const DEFAULT_COMMAND_ATTEMPTS = 8;

/**
 * A created job's id when the sender gave none: derived from the command id when there is one,
 * so a retried create lands on the same job and gets the first reply.
 */
export function newJobId(commandId: string | undefined): string {
  if (!commandId) return randomUUID();
  const hex = createHash('sha256').update(`create:${commandId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

@CommandHandler(ExecuteJobCommand)
export class ExecuteJobCommandHandler implements ICommandHandler<ExecuteJobCommand, CommandReply> {
  constructor(
    private readonly jobs: JobRepository,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(COMMAND_ATTEMPTS) private readonly attempts: number,
  ) {}

  execute({ name, body, actorAuthenticated }: ExecuteJobCommand): Promise<CommandReply> {
    const jobId = body.jobId ?? newJobId(body.commandId);
    return this.jobs.serialize(jobId, () => this.run({ name, body } as JobCommand, jobId, actorAuthenticated));
  }

  private async run(command: JobCommand, jobId: string, actorAuthenticated: boolean): Promise<CommandReply> {
    const { body } = command;
    // Only a command the sender named can come again, so only its events carry its digest.
    const digest = body.commandId === undefined ? undefined : commandDigest(command.name, body);
    const commandId = body.commandId ?? randomUUID();
    // A create is decided on a blank job without reading: if the job exists after all, the append
    // after position 0 is refused and the command is decided again on the stored job.
    let job = command.name === 'create' ? this.jobs.cachedOrBlank(jobId) : this.jobs.cached(jobId);
    // A job read from the store during this command is up to date; only a cached one may be stale.
    let upToDate = job === undefined;
    job ??= await this.jobs.load(jobId);
    for (let attempt = 1; ; attempt++) {
      // Stored commands stay stored: a cached job that holds this command id answers for the store.
      const earlier = digest === undefined ? undefined : job.commands.get(commandId);
      if (earlier) {
        // Events stored without a digest cannot tell: the command is taken to be the same.
        return earlier.digest === undefined || earlier.digest === digest ? earlier.reply : reused(commandId, jobId);
      }
      const context: CommandContext = {
        jobId,
        commandId,
        commandDigest: digest,
        actor: body.actor ?? 'anonymous',
        actorAuthenticated,
        at: new Date().toISOString(),
        correlationId: body.correlationId ?? commandId,
        causationId: body.causationId ?? commandId,
        expectedVersion: body.expectedVersion,
      };
      const decision = decide(command, context, job.state);
      if (!decision.ok || decision.events.length === 0) {
        // Answering without appending: only from an up-to-date job, as another instance may have moved it.
        if (!upToDate) {
          const current = await this.jobs.refresh(jobId);
          const changed = current.state.version !== job.state.version;
          job = current;
          upToDate = true;
          if (changed) {
            if (attempt >= this.attempts) return conflict(jobId, attempt);
            continue;
          }
        }
        return decision.ok ? okReply(job) : errorReply(decision.error);
      }
      try {
        const { position, duplicate } = await this.store.append(jobId, decision.events, {
          expectedPosition: job.position,
          commitId: `${jobId}:${commandId}`,
        });
        if (!duplicate) return okReply(this.jobs.record(job, decision.events, position));
        // The store holds a commit with this command id, of an earlier attempt or of another command
        // sent with the same id: the job's events tell which.
      } catch (error) {
        if (error instanceof AppendTimeout) {
          // The events may or may not be stored: a retry with the same commandId tells, and appends nothing twice.
          const advice =
            body.commandId === undefined
              ? 'it may or may not have been applied: read the job before sending it again, and send a commandId to make retries safe'
              : 'retry it with the same commandId';
          return errorReply({ code: 'TIMEOUT', message: `${error.message}; ${advice}` });
        }
        if (error instanceof CommitTooLarge) return commitTooLarge(command.name, error);
        if (!(error instanceof ConcurrencyError)) throw error;
        if (attempt >= this.attempts) {
          this.jobs.forget(jobId);
          return conflict(jobId, attempt);
        }
        // A first refusal is most often a cached job that another instance moved on: read and retry at
        // once. Refused again, the job is being changed right now: give the others room.
        if (attempt > 1) await backoff(attempt);
      }
      job = await this.jobs.refresh(jobId);
      upToDate = true;
    }
  }
}

/** Events larger than the body they came in: JSON written again can grow. */
function commitTooLarge(name: CommandName, { size, limit }: CommitTooLarge): ErrorReply {
  return errorReply({
    code: 'PAYLOAD_TOO_LARGE',
    message:
      `its events would take ${size} bytes, more than the NATS server's max_payload of ${limit} (numbers such as 1E20 are ` +
      `stored written out): ${COMMAND_TOO_LARGE_ADVICE[name] ?? 'send a smaller body'}`,
    size,
    limit,
  });
}

function reused(commandId: string, jobId: string): ErrorReply {
  return errorReply({
    code: 'COMMAND_ID_REUSED',
    message: `commandId "${commandId}" was already used for another command on job ${jobId}; send a new commandId for a new command, or resend the very same command to get its first reply`,
  });
}

function conflict(jobId: string, attempts: number): ErrorReply {
  return errorReply({
    code: 'CONCURRENCY_CONFLICT',
    message: `job ${jobId} kept changing while this command was applied; ${attempts} attempts failed, read it and retry`,
  });
}

function okReply(job: LoadedJob): CommandOkReply {
  return { ok: true, jobId: job.state.jobId, version: job.state.version, position: job.position, status: job.state.status! };
}

/** Jittered, growing pause so that competing instances do not collide again in lockstep. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
}
