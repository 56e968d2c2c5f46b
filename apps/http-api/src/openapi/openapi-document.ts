import { z } from 'zod';
import { commandSchemas, querySchemas, type CommandName } from '#contracts';
import { eventsQuerySchema } from '../events/events.controller.js';
import { JOB_COMMANDS, rejectsCsvSchema } from '../jobs.controller.js';
import { REPEATABLE_PARAMETERS } from '../request-reading.js';
import { loginSchema } from '../session.controller.js';
import {
  commandReplySchema,
  errorReplySchema,
  getReplySchema,
  historyReplySchema,
  jobChangeSchema,
  listReplySchema,
  logsReplySchema,
  okReplySchema,
  rejectsReplySchema,
  sessionReplySchema,
  statusCountsReplySchema,
} from './reply-schemas.js';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

/** A request schema as JSON Schema, as clients send it (before defaults and transforms). */
function input(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return json;
}

function output(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  return json;
}

/** A command's body without the fields the path and headers carry. */
function commandBody(name: CommandName, withoutJobId: boolean): JsonSchema {
  const json = input(commandSchemas[name]);
  const properties = { ...json.properties };
  if (withoutJobId) delete properties.jobId;
  return { ...json, properties, required: json.required?.filter((key) => key in properties) };
}

/** A query's fields as query-string parameters, but those in the path. */
function queryParameters(schema: z.ZodType, inPath: string[] = []): unknown[] {
  const json = input(schema);
  return Object.entries(json.properties ?? {})
    .filter(([name]) => !inPath.includes(name))
    .map(([name, property]) => {
      const repeatable = REPEATABLE_PARAMETERS.has(name);
      return {
        name,
        in: 'query',
        required: json.required?.includes(name) ?? false,
        ...(repeatable ? { style: 'form', explode: true } : {}),
        schema: property,
        ...(typeof property.description === 'string' ? { description: property.description } : {}),
      };
    });
}

const jobIdParameter = { name: 'jobId', in: 'path', required: true, schema: input(commandSchemas.start.shape.jobId) };

const json = (schema: z.ZodType) => ({ 'application/json': { schema: output(schema) } });
const reply = (description: string, schema: z.ZodType) => ({ description, content: json(schema) });
const error = (description: string) => reply(description, errorReplySchema);

/** The error statuses every authenticated route may answer, besides its own. */
const READ_ERRORS = {
  400: error('VALIDATION_FAILED: a parameter the query refuses'),
  401: error('UNAUTHENTICATED: no token or session, or not a valid one'),
  403: error('FORBIDDEN: the user lacks the right'),
  500: error('INTERNAL'),
  503: error('UNAVAILABLE: NATS or the service is gone for a moment; retry'),
  504: error('TIMEOUT: minPosition not reached in time, or the service slow; retry'),
};
const JOB_READ_ERRORS = { ...READ_ERRORS, 404: error('JOB_NOT_FOUND') };
const COMMAND_ERRORS = {
  ...JOB_READ_ERRORS,
  409: error('JOB_EXISTS, INVALID_TRANSITION (with status), CONCURRENCY_CONFLICT, COMMAND_ID_REUSED, JOB_CLAIMED'),
  413: error('PAYLOAD_TOO_LARGE'),
};

const commandHeaders = [
  {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'The command id: the same key again appends nothing and answers the first reply',
    schema: { type: 'string', maxLength: 200 },
  },
  {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'The job version you last saw, as its ETag ("3") or a bare number: any other version is CONCURRENCY_CONFLICT (409)',
    schema: { type: 'string' },
  },
];

const commandOperation = (name: CommandName, summary: string) => ({
  summary,
  operationId: `command-${name}`,
  parameters: [jobIdParameter, ...commandHeaders],
  requestBody: { required: false, content: { 'application/json': { schema: commandBody(name, true) } } },
  responses: { 200: reply('the command reply; position is what to pass as minPosition', commandReplySchema), ...COMMAND_ERRORS },
});

/** The OpenAPI 3.1 description of the HTTP API, made from the contract's zod schemas. */
export function openApiDocument() {
  const jobCommands = Object.fromEntries(
    JOB_COMMANDS.map((name) => [`/api/v1/jobs/{jobId}/${name}`, { post: commandOperation(name, `the ${name} command`) }]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Job tracking HTTP API',
      version: '1',
      description:
        'The NATS API version 1 over HTTP: the same bodies and replies, errors as {ok:false, error:{code, message}} with HTTP statuses. Authenticate with "Authorization: Bearer <token>" or the session cookie of POST /api/v1/session.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: 'jobs_session' },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      '/api/v1/session': {
        post: {
          summary: 'log in with an API token: sets the HttpOnly session cookie',
          security: [],
          requestBody: { required: true, content: { 'application/json': { schema: input(loginSchema) } } },
          responses: {
            200: reply('the user', sessionReplySchema),
            400: error('VALIDATION_FAILED'),
            401: error('UNAUTHENTICATED: not a valid token'),
          },
        },
        get: {
          summary: 'who is logged in',
          responses: { 200: reply('the user', sessionReplySchema), 401: error('UNAUTHENTICATED') },
        },
        delete: { summary: 'log out: clears the cookie', security: [], responses: { 200: reply('done', okReplySchema) } },
      },
      '/api/v1/jobs': {
        get: {
          summary: 'the list query: every filter a parameter, status repeatable',
          operationId: 'list',
          parameters: queryParameters(querySchemas.list),
          responses: { 200: reply('a page of jobs', listReplySchema), ...READ_ERRORS },
        },
        post: {
          summary: 'the create command',
          operationId: 'command-create',
          parameters: commandHeaders.slice(0, 1),
          requestBody: { required: true, content: { 'application/json': { schema: commandBody('create', false) } } },
          responses: {
            201: {
              ...reply('created; Location names the job', commandReplySchema),
              headers: { Location: { schema: { type: 'string' } } },
            },
            ...COMMAND_ERRORS,
          },
        },
      },
      '/api/v1/jobs/status-counts': {
        get: {
          summary: 'the number of jobs in each status, for the list filters but status, sort, order, limit and cursor',
          operationId: 'status-counts',
          parameters: queryParameters(querySchemas['status-counts']),
          responses: { 200: reply('counts of all nine statuses', statusCountsReplySchema), ...READ_ERRORS },
        },
      },
      '/api/v1/jobs/{jobId}': {
        get: {
          summary: 'the get query',
          operationId: 'get',
          parameters: [jobIdParameter, ...queryParameters(querySchemas.get, ['jobId'])],
          responses: {
            200: { ...reply('the job; ETag is its version', getReplySchema), headers: { ETag: { schema: { type: 'string' } } } },
            ...JOB_READ_ERRORS,
          },
        },
        patch: { ...commandOperation('update', 'the update command (while editing)'), operationId: 'command-update' },
      },
      '/api/v1/jobs/{jobId}/logs': {
        get: {
          summary: 'the logs query: level repeatable; after, before or tail (tail=true), one at a time',
          operationId: 'logs',
          parameters: [jobIdParameter, ...queryParameters(querySchemas.logs, ['jobId'])],
          responses: { 200: reply("the job's log entries", logsReplySchema), ...JOB_READ_ERRORS },
        },
      },
      '/api/v1/jobs/{jobId}/rejects': {
        get: {
          summary: 'the rejects query',
          operationId: 'rejects',
          parameters: [jobIdParameter, ...queryParameters(querySchemas.rejects, ['jobId'])],
          responses: { 200: reply("a page of the job's rejected records", rejectsReplySchema), ...JOB_READ_ERRORS },
        },
      },
      '/api/v1/jobs/{jobId}/rejects.csv': {
        get: {
          summary: 'every rejected record as CSV (line,reason,record,at), streamed, as an attachment named <jobId>-rejects.csv',
          operationId: 'rejects-csv',
          parameters: [jobIdParameter, ...queryParameters(rejectsCsvSchema, ['jobId'])],
          responses: { 200: { description: 'the CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, ...JOB_READ_ERRORS },
        },
      },
      '/api/v1/jobs/{jobId}/history': {
        get: {
          summary: 'the history query: the events from the event store, and the state at a version or time',
          operationId: 'history',
          parameters: [jobIdParameter, ...queryParameters(querySchemas.history, ['jobId'])],
          responses: { 200: reply('a page of events', historyReplySchema), ...JOB_READ_ERRORS },
        },
      },
      ...jobCommands,
      '/api/v1/events': {
        get: {
          summary:
            'job changes as Server-Sent Events (event: job, id: the resume point, data below), coalesced to a few a second per job, the last state always sent; resumes after Last-Event-ID; ": keep-alive" every 15 s',
          operationId: 'events',
          parameters: [
            ...queryParameters(eventsQuerySchema),
            { name: 'Last-Event-ID', in: 'header', required: false, description: 'resume after this position', schema: { type: 'string' } },
          ],
          responses: {
            200: {
              description: 'the stream; each data is the JSON below',
              content: { 'text/event-stream': { schema: output(jobChangeSchema) } },
            },
            ...READ_ERRORS,
          },
        },
      },
      '/api/v1/openapi.json': { get: { summary: 'this document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } } },
      '/healthz': { get: { summary: 'the process is up', security: [], responses: { 200: reply('up', okReplySchema) } } },
      '/readyz': {
        get: {
          summary: 'NATS is connected and the service answers',
          security: [],
          responses: { 200: reply('ready', okReplySchema), 503: error('UNAVAILABLE'), 504: error('TIMEOUT') },
        },
      },
    },
  };
}
