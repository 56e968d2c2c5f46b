import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { errorReply, isJobError, type ErrorReply, type HistoryReply, type QueryBody, type QueryName, type QueryReply } from '#contracts';
import { replayJob } from '#domain';
import { EVENT_STORE, type EventStore } from '#event-store';
import { jobSummary } from '#read-models';
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
  constructor(
    private readonly projector: ReadModelProjector,
    private readonly exporter: RejectsExporter,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute(query: RunJobQuery): Promise<JobQueryReply> {
    const { name, body } = query as JobQuery;
    const queries = this.projector.queries;
    switch (name) {
      case 'list': {
        const page = queries.listJobs(body);
        return isJobError(page) ? errorReply(page) : { ok: true, ...page };
      }
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
        return this.history(body);
    }
  }

  /** Read from the event store itself, not from a read model: what auditors replay is the record. */
  private async history({ jobId, atVersion, atTime }: QueryBody<'history'>): Promise<HistoryReply | ErrorReply> {
    const all = await this.store.readJob(jobId);
    if (all.length === 0) return notFound(jobId);
    const version = all.at(-1)!.version;
    if (atVersion !== undefined && atVersion > version) {
      const message = `job ${jobId} has ${version} versions: atVersion goes from 0 to ${version}`;
      return errorReply({ code: 'VALIDATION_FAILED', message, issues: [{ path: 'atVersion', message }] });
    }
    const events = all.filter(
      (event) => (atVersion === undefined || event.version <= atVersion) && (atTime === undefined || event.at <= atTime),
    );
    const state = replayJob(jobId, events);
    if (state.status === null) return { ok: true, events, state: null };
    return { ok: true, events, state: { ...jobSummary(state), definition: state.definition, rejectPolicy: state.rejectPolicy } };
  }
}

function notFound(jobId: string): ErrorReply {
  return errorReply({ code: 'JOB_NOT_FOUND', message: `job ${jobId} does not exist` });
}
