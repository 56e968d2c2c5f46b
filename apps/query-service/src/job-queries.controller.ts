import { hostname } from 'node:os';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { errorReply, MAX_QUERY_WAIT_MS, querySchemas, type ErrorReply } from '#contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '#config';
import { PassThroughExceptionFilter, readApiRequest } from '#nats-transport';
import { PositionTimeout, ReadModelProjector, type ReadModelStatus, type RebuildReport } from './read-model-projector.js';
import { RunJobQuery, type JobQueryReply } from './run-job-query.js';

/** `<prefix>.query.<name>`: validates at the edge, waits for `minPosition` (up to `maxWaitMs`), then asks the query bus. */
@Controller()
@UseFilters(PassThroughExceptionFilter)
export class JobQueriesController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly projector: ReadModelProjector,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @MessagePattern('query.>')
  async query(@Payload() body: unknown, @Ctx() context: NatsContext): Promise<JobQueryReply> {
    const request = readApiRequest(context.getSubject(), body, this.config, 'query', querySchemas);
    if (!request.ok) return request;
    const { minPosition, maxWaitMs = this.config.queryWaitMs } = request.body;
    if (minPosition !== undefined) {
      try {
        await this.projector.waitFor(minPosition, maxWaitMs);
      } catch (error) {
        if (!(error instanceof PositionTimeout)) throw error;
        return errorReply({
          code: 'TIMEOUT',
          message:
            `the read models are at position ${error.reached}, not yet at minPosition ${error.wanted}, after ${maxWaitMs} ms: ` +
            `retry, or pass a larger maxWaitMs (up to ${MAX_QUERY_WAIT_MS} ms)`,
        });
      }
    }
    return this.queryBus.execute(new RunJobQuery(request.name, request.body));
  }

  /** Every query instance tells how far its read models are: an operator sees each one's lag. */
  @MessagePattern('admin.read-models-status', { broadcast: true })
  async status(): Promise<{ ok: true; instance: { host: string; pid: number } } & ReadModelStatus> {
    return { ok: true, instance: { host: hostname(), pid: process.pid }, ...(await this.projector.status()) };
  }

  /** Every query instance rebuilds its own read models; each one answers. */
  @MessagePattern('admin.rebuild-read-models', { broadcast: true })
  async rebuild(): Promise<({ ok: true } & RebuildReport) | ErrorReply> {
    return { ok: true, ...(await this.projector.rebuild()) };
  }
}
