import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { NatsConnection } from '@nats-io/nats-core';
import { errorReply, isJobError, type ErrorReply, type QueryBody, type QueryName, type QueryReply } from '#contracts';
import { EVENT_STORE, type EventStore } from '#event-store';
import { JobHistory } from './job-history.js';
import { NATS_CONNECTION } from './query-service.tokens.js';
import { ReadModelProjector } from './read-model-projector.js';
import { RejectsExporter } from './rejects-exporter.js';

export type JobQueryReply = QueryReply | ErrorReply;

/** A validated `jobs.query.<name>` request. */
export class RunJobQuery extends Query<JobQueryReply> {
  constructor(
    readonly name: QueryName,
    readonly body: QueryBody,
  ) {
    super();
  }
}

type JobQuery = { [N in QueryName]: { name: N; body: QueryBody<N> } }[QueryName];

@QueryHandler(RunJobQuery)
export class RunJobQueryHandler implements IQueryHandler<RunJobQuery, JobQueryReply> {
  private readonly history: JobHistory;

  constructor(
    private readonly projector: ReadModelProjector,
    private readonly exporter: RejectsExporter,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(NATS_CONNECTION) connection: NatsConnection,
  ) {
    this.history = new JobHistory(store, connection);
  }

  async execute(query: RunJobQuery): Promise<JobQueryReply> {
    const { name, body } = query as JobQuery;
    const queries = this.projector.queries;
    switch (name) {
      case 'list': {
        const page = queries.listJobs(body);
        return isJobError(page) ? errorReply(page) : { ok: true, ...page };
      }
      case 'status-counts':
        return { ok: true, ...queries.statusCounts(body) };
      case 'get': {
        const job = queries.getJob(body.jobId);
        return job ? { ok: true, job } : notFound(body.jobId);
      }
      case 'logs':
        if (!queries.getJob(body.jobId)) return notFound(body.jobId);
        return { ok: true, ...queries.jobLogs(body) };
      case 'rejects': {
        if (!queries.getJob(body.jobId)) return notFound(body.jobId);
        const page = queries.jobRejects(body);
        return isJobError(page) ? errorReply(page) : { ok: true, ...page };
      }
      case 'rejects-export':
        if (!queries.getJob(body.jobId)) return notFound(body.jobId);
        return this.exporter.export(body.jobId);
      case 'history':
        return this.history.page(body);
    }
  }
}

function notFound(jobId: string): ErrorReply {
  return errorReply({ code: 'JOB_NOT_FOUND', message: `job ${jobId} does not exist` });
}
