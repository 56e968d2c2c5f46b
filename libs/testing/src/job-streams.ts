import type { CommandBody, CommandName, JobEventCommit } from '#contracts';
import { decide, evolve, initialJobState, type CommandContext, type JobCommand, type JobState } from '#domain';

export const T0 = Date.parse('2024-03-01T09:00:00.000Z');

/**
 * An event store in memory for tests: commands are decided by the real domain on each job's state
 * and stored as commits at increasing positions, the n-th command at T0 + n seconds.
 */
export class JobStreams {
  readonly commits: JobEventCommit[] = [];
  private readonly states = new Map<string, JobState>();
  private commandCount = 0;

  run<N extends CommandName>(name: N, body: CommandBody<N>, context: Partial<CommandContext> = {}): JobEventCommit {
    const jobId = body.jobId!;
    const state = this.state(jobId);
    const n = ++this.commandCount;
    const decision = decide(
      { name, body } as JobCommand,
      {
        jobId,
        commandId: `cmd-${n}`,
        actor: 'alice',
        at: new Date(T0 + n * 1000).toISOString(),
        correlationId: `corr-${n}`,
        causationId: `cause-${n}`,
        ...context,
      },
      state,
    );
    if (!decision.ok) throw new Error(`${name} on ${jobId} refused: ${decision.error.message}`);
    if (decision.events.length === 0) throw new Error(`${name} on ${jobId} is a no-op`);
    const position = (this.commits.at(-1)?.position ?? 0) + 1;
    const commit: JobEventCommit = { position, jobId, events: decision.events.map((event) => ({ ...event, position })) };
    this.states.set(jobId, commit.events.reduce(evolve, state));
    this.commits.push(commit);
    return commit;
  }

  /** The job's state as the domain makes it from its events. */
  state(jobId: string): JobState {
    return this.states.get(jobId) ?? initialJobState(jobId);
  }
}
