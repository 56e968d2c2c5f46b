import { Readable } from 'node:stream';
import { Body, Controller, Get, Headers, HttpCode, Inject, Logger, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  COMMAND_NAMES,
  isCommandName,
  querySchemas,
  REJECTS_CSV_HEADER,
  rejectCsvRow,
  rejectRecordText,
  type CommandName,
  type JobKind,
  type RejectsReply,
} from '#contracts';
import { isJobsError, JobsClient } from '#client';
import { authorize, type Operator } from '#operator-access';
import { ApiError } from './api-error.js';
import { Access, CurrentOperator, requireAccess } from './auth.guard.js';
import { JOBS_CLIENT } from './http-api.tokens.js';
import { commandBody, queryBody, type CommandHeaders, type QueryString } from './request-reading.js';

/** What `GET .../rejects.csv` takes: the job, and the position to read from. */
export const rejectsCsvSchema = querySchemas.rejects.omit({ cursor: true, limit: true });

/** Commands sent with `POST /api/v1/jobs/{jobId}/{command}`: all but create (`POST /api/v1/jobs`) and update (`PATCH`). */
export const JOB_COMMANDS = COMMAND_NAMES.filter((name) => name !== 'create' && name !== 'update');

/** Rejects read per page while a CSV streams: the query's largest page. */
const CSV_PAGE = 1_000;

/** The jobs API: each route reads HTTP into a command or query body, sends it with the SDK, and answers its reply. */
@Controller('api/v1/jobs')
export class JobsController {
  private readonly logger = new Logger('HttpApi');

  constructor(@Inject(JOBS_CLIENT) private readonly client: JobsClient) {}

  @Get()
  @Access('read')
  async list(@Query() query: QueryString, @Res({ passthrough: true }) reply: FastifyReply) {
    return asJson(reply, await this.client.queryJson('list', queryBody('list', querySchemas.list, query)));
  }

  @Get('status-counts')
  @Access('read')
  async statusCounts(@Query() query: QueryString, @Res({ passthrough: true }) reply: FastifyReply) {
    return asJson(reply, await this.client.queryJson('status-counts', queryBody('status-counts', querySchemas['status-counts'], query)));
  }

  @Get(':jobId')
  @Access('read')
  async get(@Param('jobId') jobId: string, @Query() query: QueryString, @Res({ passthrough: true }) reply: FastifyReply) {
    const found = await this.client.get(queryBody('get', querySchemas.get, query, { jobId }));
    // The version as an entity tag, so that If-Match can send it back.
    reply.header('ETag', `"${found.job.version}"`);
    return found;
  }

  @Get(':jobId/logs')
  @Access('read')
  async logs(@Param('jobId') jobId: string, @Query() query: QueryString, @Res({ passthrough: true }) reply: FastifyReply) {
    return asJson(reply, await this.client.queryJson('logs', queryBody('logs', querySchemas.logs, query, { jobId })));
  }

  @Get(':jobId/rejects')
  @Access('read')
  async rejects(@Param('jobId') jobId: string, @Query() query: QueryString, @Res({ passthrough: true }) reply: FastifyReply) {
    return asJson(reply, await this.client.queryJson('rejects', queryBody('rejects', querySchemas.rejects, query, { jobId })));
  }

  @Get(':jobId/history')
  @Access('read')
  history(@Param('jobId') jobId: string, @Query() query: QueryString) {
    return this.client.history(queryBody('history', querySchemas.history, query, { jobId }));
  }

  /** Every reject as CSV, read page by page as the client takes them: never all in memory. */
  @Get(':jobId/rejects.csv')
  @Access('read')
  async rejectsCsv(@Param('jobId') jobId: string, @Query() query: QueryString, @Res() reply: FastifyReply) {
    const body = queryBody('rejects', rejectsCsvSchema as typeof querySchemas.rejects, query, { jobId });
    // The first page before any header: an unknown job is still a JSON error, not a broken file.
    const first = await this.client.rejects({ ...body, limit: CSV_PAGE });
    const csv = Readable.from(this.rejectsCsvChunks(jobId, first));
    csv.once('error', (error: unknown) => {
      this.logger.warn(`rejects.csv of job ${jobId} stopped: ${error instanceof Error ? error.message : String(error)}`);
    });
    return reply
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${jobId}-rejects.csv"`)
      .send(csv);
  }

  @Post()
  @HttpCode(201)
  @Access('operator')
  async create(
    @Body() body: unknown,
    @Headers() headers: CommandHeaders,
    @CurrentOperator() operator: Operator,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const command = commandBody('create', body, headers, operator.name);
    requireAccess(operator, { type: 'command', command: 'create', kind: command.kind });
    const created = await this.client.create(command, { actor: operator.name });
    reply.header('Location', `/api/v1/jobs/${created.jobId}`);
    return created;
  }

  @Patch(':jobId')
  @Access('operator')
  async update(
    @Param('jobId') jobId: string,
    @Body() body: unknown,
    @Headers() headers: CommandHeaders,
    @CurrentOperator() operator: Operator,
  ) {
    const command = commandBody('update', body, headers, operator.name, jobId);
    await this.authorizeCommand(operator, 'update', command.jobId);
    return this.client.update(command, { actor: operator.name });
  }

  @Post(':jobId/:command')
  @HttpCode(200)
  @Access('operator')
  async command(
    @Param('jobId') jobId: string,
    @Param('command') name: string,
    @Body() body: unknown,
    @Headers() headers: CommandHeaders,
    @CurrentOperator() operator: Operator,
  ) {
    if (!isCommandName(name) || name === 'create' || name === 'update') {
      throw new ApiError({
        code: 'UNKNOWN_COMMAND',
        message: `${JSON.stringify(name)} is no command on a job here; use one of ${JOB_COMMANDS.join(', ')} (create with POST /api/v1/jobs, update with PATCH /api/v1/jobs/{jobId})`,
      });
    }
    const command = commandBody(name, body, headers, operator.name, jobId);
    await this.authorizeCommand(operator, name, jobId);
    return this.client.command(name, command, { actor: operator.name });
  }

  /**
   * Refuses a command the operator may not send on this job. The job's kind is read only when it
   * decides, from its first event in the event store (not the read models, which may be behind a
   * job just created); nothing is sent when the operator's rights decide whatever the kind.
   */
  private async authorizeCommand(operator: Operator, command: CommandName, jobId: string): Promise<void> {
    const anyKind = (kind: JobKind | null) => authorize(operator, { type: 'command', command, kind }).ok;
    if (anyKind('import') && anyKind('export')) return;
    requireAccess(operator, { type: 'command', command, kind: null });
    let kind: JobKind | null = null;
    try {
      kind = (await this.client.history({ jobId, atVersion: 1, limit: 1 })).state?.kind ?? null;
    } catch (error) {
      if (!isJobsError(error, 'JOB_NOT_FOUND')) throw error;
    }
    requireAccess(operator, { type: 'command', command, kind });
  }

  /** The header, then a chunk of rows a page: the next page is read only once the client has taken the last. */
  private async *rejectsCsvChunks(jobId: string, first: RejectsReply): AsyncGenerator<string> {
    yield REJECTS_CSV_HEADER;
    let page = first;
    for (;;) {
      yield page.items.map(({ line, reason, record, at }) => rejectCsvRow(line, reason, rejectRecordText(record), at)).join('');
      if (page.nextCursor === null) return;
      page = await this.client.rejects({ jobId, cursor: page.nextCursor, limit: CSV_PAGE });
    }
  }
}

/**
 * The service's reply as it came, JSON text: parsing a page only to serialize it again is work
 * for nothing. Without the type, Fastify would send the text as text/plain.
 */
function asJson(reply: FastifyReply, json: string): string {
  void reply.type('application/json; charset=utf-8');
  return json;
}
