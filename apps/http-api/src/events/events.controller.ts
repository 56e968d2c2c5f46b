import { Controller, Get, Headers, Inject, Logger, Query, Res, type OnModuleDestroy } from '@nestjs/common';
import { jetstream } from '@nats-io/jetstream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { jobIdSchema, jobSubjects, validateBody } from '#contracts';
import { followChanges, JobsClient } from '#client';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { ApiError } from '../api-error.js';
import { Access } from '../auth.guard.js';
import { JOB_SUMMARIES, JOBS_CLIENT, LIVE_JOB_EVENTS } from '../http-api.tokens.js';
import type { JobSummaries } from '../job-summaries.js';
import { JobChangeCoalescer, type JobChangeMessage } from './job-change-coalescer.js';
import { type LiveClient, LiveJobChanges } from './live-job-changes.js';
import type { LiveJobEvents } from './live-job-events.js';

const position = z
  .string()
  .regex(/^\d{1,15}$/, 'a position is a whole number from 0')
  .transform(Number);

export const eventsQuerySchema = z.strictObject({
  /** Only this job's changes. */
  jobId: jobIdSchema.optional(),
  /** The changes after this position (Last-Event-ID, when a reconnecting client sends it, wins). */
  fromPosition: position.optional(),
});

/**
 * At most this many messages a second about one job: its changes wait a quarter of a second to be
 * folded together, which also sends a short-lived job's whole life as one message.
 */
const MESSAGES_PER_JOB_PER_SECOND = 4;
const RETRY_SUMMARY_MS = 1_000;
/**
 * A client that reads slower than its jobs change: past this many bytes waiting to be sent, its
 * stream ends, and its EventSource reconnects after the last id it read, missing nothing.
 */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;
/** The messages of a stream from now that come within this long are written to its clients together. */
const BATCH_MS = 50;
/** A comment every 15 s keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

/**
 * `GET /api/v1/events`: job changes as Server-Sent Events, from the event stream, each with the
 * job's summary. Streams from now share one feed and its messages; a stream from a position (a
 * reconnection) has its own consumer and coalescer, the consumer deleted when the client goes away.
 */
@Controller('api/v1/events')
export class EventsController implements OnModuleDestroy {
  private readonly logger = new Logger('HttpApi');
  private readonly open = new Set<AbortController>();
  private readonly fromNow: LiveJobChanges;

  constructor(
    @Inject(JOBS_CLIENT) private readonly client: JobsClient,
    @Inject(JOB_SUMMARIES) private readonly summaries: JobSummaries,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(LIVE_JOB_EVENTS) live: LiveJobEvents,
  ) {
    this.fromNow = new LiveJobChanges(live, {
      intervalMs: 1_000 / MESSAGES_PER_JOB_PER_SECOND,
      retryMs: RETRY_SUMMARY_MS,
      keepAliveMs: KEEP_ALIVE_MS,
      batchMs: BATCH_MS,
      summaryAt: (changed, minPosition) => this.summaries.at(changed, minPosition),
      onError: (error, changed) => this.warnSummary(error, changed),
    });
  }

  @Get()
  @Access('read')
  async events(
    @Query() query: Record<string, unknown>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ) {
    const checked = validateBody(eventsQuerySchema, query, 'events query');
    if (!checked.ok) throw new ApiError(checked.error);
    const { jobId } = checked.value;
    let from = checked.value.fromPosition;
    if (lastEventId !== undefined) {
      const resumed = position.safeParse(lastEventId.trim());
      if (!resumed.success) throw ApiError.validation('Last-Event-ID', 'send the id of the last message received: a position');
      from = resumed.data;
    }

    const abort = new AbortController();
    this.open.add(abort);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // Proxies that buffer responses (nginx) would hold the messages back.
      'X-Accel-Buffering': 'no',
    });
    raw.write(': connected\n\n');
    raw.on('close', () => abort.abort());

    const write = (chunk: string | Buffer) => {
      raw.write(chunk);
      if (raw.writableLength > MAX_UNSENT_BYTES) abort.abort();
    };
    try {
      if (from === undefined) await this.followFromNow({ jobId, write, end: () => abort.abort() }, abort.signal);
      else await this.followFrom(from, jobId, write, abort.signal);
    } catch (error) {
      if (!abort.signal.aborted) this.logger.warn(`a live stream of job changes stopped: ${describe(error)}`);
    } finally {
      this.open.delete(abort);
      raw.end();
    }
  }

  /** Ends the open streams, so that the server can close (a client's EventSource reconnects elsewhere, from its last id). */
  onModuleDestroy(): void {
    for (const stream of this.open) stream.abort();
  }

  /** From now on: on the process's shared changes, until the client goes away. */
  private async followFromNow(client: LiveClient, signal: AbortSignal): Promise<void> {
    await this.fromNow.attach(client);
    try {
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    } finally {
      this.fromNow.detach(client);
    }
  }

  /** After a position (a reconnection): on a consumer and a coalescer of the stream's own, until it ends. */
  private async followFrom(from: number, jobId: string | undefined, write: (chunk: string) => void, signal: AbortSignal): Promise<void> {
    const changes = new JobChangeCoalescer({
      intervalMs: 1_000 / MESSAGES_PER_JOB_PER_SECOND,
      retryMs: RETRY_SUMMARY_MS,
      summaryAt: (changed, minPosition) => this.summaries.at(changed, minPosition),
      send: (message) => write(serialize(message)),
      onError: (error, changed) => this.warnSummary(error, changed),
    });
    const keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    try {
      const subjects = jobSubjects(this.config.subjectPrefix);
      const feed = followChanges(jetstream(this.client.nc), {
        stream: this.config.stream,
        eventsSubjectPrefix: subjects.jobEvents(''),
        filter: jobId === undefined ? subjects.allEvents : subjects.jobEvents(jobId),
        fromPosition: from,
        signal,
      });
      for await (const change of feed) changes.add(change);
    } finally {
      changes.close();
      clearInterval(keepAlive);
    }
  }

  private warnSummary(error: unknown, jobId: string): void {
    this.logger.warn(`live summary of job ${jobId} not read yet, trying again: ${describe(error)}`);
  }
}

function serialize({ id, jobId, position: at, types, job }: JobChangeMessage): string {
  return `id: ${id}\nevent: job\ndata: ${JSON.stringify({ jobId, position: at, types, job })}\n\n`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
