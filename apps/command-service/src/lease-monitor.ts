import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  commandSchemas,
  EXECUTING_JOB_STATUSES,
  executorHeartbeatSchema,
  jobSubjects,
  readStoredCommit,
  type ErrorCode,
  type JobSubjects,
  type ListReply,
  type ErrorReply,
} from '#contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { followChanges } from '#client';
import { ExecuteJobCommand, type CommandReply } from './execute-job-command.js';
import { ExecutorLeases, type ExpiredClaim } from './executor-leases.js';

/** The actor of the shutdowns the monitor sends. */
export const LEASE_MONITOR_ACTOR = 'lease-monitor';

/** How long the monitor waits before it asks the read side for the claims again, when it did not answer. */
const LIST_RETRY_MS = 5_000;
const FIRST_LIST_RETRY_MS = 500;
const REQUEST_TIMEOUT_MS = 10_000;
const LIST_PAGE = 500;

/** Failures that may pass: the shutdown is sent again at the next check, with the same commandId. */
const PASSING: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'TIMEOUT', 'CONCURRENCY_CONFLICT', 'INTERNAL']);

/**
 * Notices executors that died without a word: each executor publishes a heartbeat every leaseMs / 3
 * on `<prefix>.executors.heartbeat.<executor>`; a job claimed by an executor not heard for the
 * claim's lease is shut down ("Server shutdown in progress", with a reason that says so), for Start
 * to run it again. The claims come from the events as they are appended, and at startup from the
 * read side's list of executing jobs (each then gets a full lease from startup). Every command-side
 * instance runs one: the shutdown of a claim has one commandId, and an executor that comes back
 * late is refused by fencing, so several monitors, or a late one, do no harm.
 */
@Injectable()
export class LeaseMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LeaseMonitor');
  private readonly leases = new ExecutorLeases();
  private readonly subjects: JobSubjects;
  private readonly stopping = new AbortController();
  /** Its own connection: heartbeats of many executors do not queue behind the service's traffic. */
  private connection?: NatsConnection;
  private timer?: NodeJS.Timeout;
  private readonly shuttingDown = new Set<string>();
  private readonly tasks: Promise<void>[] = [];

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly commandBus: CommandBus,
  ) {
    this.subjects = jobSubjects(config.subjectPrefix);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.connection = await connect({ ...this.config.connection, name: `${this.config.connection.name ?? 'job-tracking'}-lease-monitor` });
    this.connection.subscribe(this.subjects.allExecutorHeartbeats, {
      callback: (error, message) => {
        if (!error) this.heartbeat(message);
      },
    });
    // Claims appended from here on come from the events; those before, from the read side once it has applied them.
    const jsm = await jetstreamManager(this.connection);
    const head = (await jsm.streams.info(this.config.stream)).state.last_seq;
    this.tasks.push(this.followClaims(jetstream(this.connection), jsm, head), this.readListedClaims(head));
    this.timer = setInterval(() => this.check(), this.config.leaseCheckMs);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    // A list request in flight ends with the connection, not after its timeout (the monitor's own
    // shutdowns go through the command bus, not this connection).
    await this.connection?.close();
    await Promise.all(this.tasks);
  }

  /** A heartbeat counts when it is well-formed and names the executor its subject names; any other is ignored. */
  private heartbeat(message: Msg): void {
    let body: unknown;
    try {
      body = message.json();
    } catch {
      return;
    }
    const parsed = executorHeartbeatSchema.safeParse(body);
    if (!parsed.success || message.subject !== this.subjects.executorHeartbeat(parsed.data.executor)) return;
    this.leases.heardFrom(parsed.data.executor, Date.now());
  }

  /**
   * The claims started and ended after `head`, from the commits' headers alone (`followChanges`:
   * the service's whole traffic is not read twice); the body only of a commit with a claim. After
   * a failure the feed starts again where it stopped.
   */
  private async followClaims(js: JetStreamClient, jsm: JetStreamManager, head: number): Promise<void> {
    let after = head;
    const { signal } = this.stopping;
    const eventsSubjectPrefix = `${this.config.subjectPrefix}.events.`;
    while (!signal.aborted) {
      try {
        const feed = { stream: this.config.stream, eventsSubjectPrefix, filter: `${eventsSubjectPrefix}>`, fromPosition: after, signal };
        for await (const { jobId, position, version, types } of followChanges(js, feed)) {
          after = position;
          if (types.includes('Claimed')) await this.readClaim(jsm, jobId, position);
          else for (const type of types) this.leases.applyEvent({ jobId, version, type, data: {} }, Date.now());
        }
      } catch (error) {
        if (signal.aborted) return;
        this.logger.warn(`following the claims stopped (${describe(error)}): going on after position ${after}`);
        await pause(LIST_RETRY_MS, signal);
      }
    }
  }

  /** A commit with a claim, read whole. One that is none the service wrote says nothing: fencing refuses what it would lead to. */
  private async readClaim(jsm: JetStreamManager, jobId: string, seq: number): Promise<void> {
    const stored = await jsm.streams.getMessage(this.config.stream, { seq });
    if (!stored) return;
    const read = readStoredCommit(jobId, stored.string());
    if (read.ok) for (const event of read.events) this.leases.applyEvent(event, Date.now());
  }

  /** The claims of the jobs executing when the monitor started, from the read side once it has applied `head`. */
  private async readListedClaims(head: number): Promise<void> {
    const { signal } = this.stopping;
    let failures = 0;
    while (!signal.aborted) {
      try {
        let cursor: string | undefined;
        do {
          const page = await this.listExecuting(head, cursor);
          const now = Date.now();
          for (const job of page.items) this.leases.applyListed(job, now);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && !signal.aborted);
        this.leases.listed();
        this.logger.log(`watching ${this.leases.held().length} claims of executing jobs`);
        return;
      } catch (error) {
        if (signal.aborted) return;
        // The read side of the same process answers once the service listens, a moment after this
        // starts: a first failure is retried soon and quietly. A command side alone waits for a read side.
        failures++;
        if (failures === 2)
          this.logger.warn(`cannot read the executing jobs' claims yet (${describe(error)}): retrying every ${LIST_RETRY_MS} ms`);
        await pause(failures === 1 ? FIRST_LIST_RETRY_MS : LIST_RETRY_MS, signal);
      }
    }
  }

  private async listExecuting(minPosition: number, cursor: string | undefined): Promise<ListReply> {
    const body = { status: [...EXECUTING_JOB_STATUSES], limit: LIST_PAGE, minPosition, ...(cursor !== undefined && { cursor }) };
    const reply = await this.connection!.request(this.subjects.query('list'), JSON.stringify(body), { timeout: REQUEST_TIMEOUT_MS });
    const answer = reply.json<ListReply | ErrorReply>();
    if (!answer.ok) throw new Error(`${answer.error.code}: ${answer.error.message}`);
    return answer;
  }

  private check(): void {
    const now = Date.now();
    for (const claim of this.leases.expired(now)) {
      if (this.shuttingDown.has(claim.jobId)) continue;
      this.shuttingDown.add(claim.jobId);
      void this.shutDown(claim, now).finally(() => this.shuttingDown.delete(claim.jobId));
    }
  }

  private async shutDown(claim: ExpiredClaim, now: number): Promise<void> {
    const { jobId, executor, claimVersion } = claim;
    const body = commandSchemas.shutdown.parse({
      jobId,
      executor,
      reason: `executor ${executor} stopped renewing its lease: last heard ${Math.round((now - claim.lastHeardAt) / 1000)} s ago`,
      actor: LEASE_MONITOR_ACTOR,
      commandId: `lease-expired:${jobId}:${claimVersion}`,
    });
    let reply: CommandReply;
    try {
      reply = await this.commandBus.execute(new ExecuteJobCommand('shutdown', body));
    } catch (error) {
      this.logger.error(`job ${jobId}: the shutdown after executor ${executor}'s lease expired failed (${describe(error)}): trying again`);
      return;
    }
    if (!reply.ok && PASSING.has(reply.error.code)) {
      this.logger.warn(
        `job ${jobId}: the shutdown after executor ${executor}'s lease expired was not applied (${reply.error.message}): trying again`,
      );
      return;
    }
    // Applied, or refused because the claim ended meanwhile (fencing, a status that takes no shutdown): either way it is over.
    this.leases.forget(claim);
    if (reply.ok) this.logger.warn(`job ${jobId}: ${body.reason}; the job is in server shutdown, for Start to run it again`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
