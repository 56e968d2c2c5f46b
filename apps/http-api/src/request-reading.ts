import { commandSchemas, validateBody, type CommandBody, type CommandName, type QueryName, type querySchemas } from '#contracts';
import type { QueryInput } from '#client';
import { ApiError } from './api-error.js';

/** A query string as Fastify parses it: a key given twice is an array. */
export type QueryString = Record<string, string | string[] | undefined>;

/** Query parameters that are numbers in the query bodies; any other stays text for the schema to judge. */
const NUMBER_PARAMETERS = new Set(['minPosition', 'maxWaitMs', 'limit', 'after', 'before', 'atVersion']);
/** Query parameters that may be repeated (`?status=running&status=paused`). */
export const REPEATABLE_PARAMETERS = new Set(['status', 'level']);

/** Query parameters that are true or false in the query bodies. */
const BOOLEAN_PARAMETERS = new Set(['tail']);

const WHOLE_NUMBER = /^-?\d+$/;
const BOOLEAN = /^(?:true|false)$/;

/**
 * The body of query `name` from a query string and the path's fields: numbers converted, a repeated
 * parameter an array when it may be one. Validated with the query's own schema, so a bad parameter
 * is VALIDATION_FAILED here and nothing is sent.
 */
export function queryBody<N extends QueryName>(
  name: N,
  schema: (typeof querySchemas)[N],
  query: QueryString,
  fromPath: Record<string, string> = {},
): QueryInput<N> {
  const body: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    // A repeated parameter that may not repeat stays an array: the schema refuses it and says so.
    const values = Array.isArray(raw) ? raw : [raw];
    const converted = NUMBER_PARAMETERS.has(key)
      ? values.map((value) => (WHOLE_NUMBER.test(value) ? Number(value) : value))
      : BOOLEAN_PARAMETERS.has(key)
        ? values.map((value) => (BOOLEAN.test(value) ? value === 'true' : value))
        : values;
    body[key] = converted.length === 1 && !(REPEATABLE_PARAMETERS.has(key) && Array.isArray(raw)) ? converted[0] : converted;
  }
  for (const [key, value] of Object.entries(fromPath)) {
    if (Object.hasOwn(body, key)) throw ApiError.validation(key, `${key} is in the path; leave it out of the query string`);
    body[key] = value;
  }
  const checked = validateBody(schema, body, `${name} query`);
  if (!checked.ok) throw new ApiError(checked.error);
  // The body as sent, not as parsed: the service fills in the defaults itself.
  return body as QueryInput<N>;
}

/** Headers that carry a command's metadata: `Idempotency-Key` and `If-Match`. */
export interface CommandHeaders {
  'idempotency-key'?: string | string[];
  'if-match'?: string | string[];
}

const IF_MATCH_VERSION = /^(?:"(\d+)"|(\d+))$/;

/**
 * A job version from `If-Match`: `"3"` (an entity tag, as `ETag` sends it) or a bare `3`. `*` asks
 * for no version. A weak tag (`W/"3"`) is refused: If-Match compares strongly (RFC 9110), and the
 * version is exact.
 */
export function expectedVersionFrom(ifMatch: string | string[] | undefined): number | undefined {
  if (ifMatch === undefined) return undefined;
  if (Array.isArray(ifMatch)) throw ApiError.validation('If-Match', 'send one If-Match header');
  const value = ifMatch.trim();
  if (value === '*') return undefined;
  const match = IF_MATCH_VERSION.exec(value);
  const version = match === null ? Number.NaN : Number(match[1] ?? match[2]);
  if (!Number.isSafeInteger(version)) {
    throw ApiError.validation('If-Match', `${JSON.stringify(value)} is no job version; send the job's version as "3" (its ETag) or 3`);
  }
  return version;
}

/** The body of command `name`: the HTTP body, the path's job id and the headers' metadata, checked with the command's schema. */
export function commandBody<N extends CommandName>(
  name: N,
  httpBody: unknown,
  headers: CommandHeaders,
  actor: string,
  jobId?: string,
): CommandBody<N> {
  if (httpBody !== undefined && httpBody !== null && (typeof httpBody !== 'object' || Array.isArray(httpBody))) {
    throw ApiError.validation('(body)', 'a command body is a JSON object');
  }
  const body: Record<string, unknown> = { ...(httpBody ?? {}) };
  if (jobId !== undefined) {
    if (Object.hasOwn(body, 'jobId') && body.jobId !== jobId) {
      throw ApiError.validation('jobId', `the path names job ${jobId}; leave jobId out of the body`);
    }
    body.jobId = jobId;
  }
  const key = headers['idempotency-key'];
  if (key !== undefined) {
    if (Array.isArray(key)) throw ApiError.validation('Idempotency-Key', 'send one Idempotency-Key header');
    if (Object.hasOwn(body, 'commandId') && body.commandId !== key) {
      throw ApiError.validation('commandId', 'the Idempotency-Key header and the body name different command ids; send one of them');
    }
    body.commandId = key;
  }
  const expectedVersion = expectedVersionFrom(headers['if-match']);
  if (expectedVersion !== undefined) {
    if (Object.hasOwn(body, 'expectedVersion') && body.expectedVersion !== expectedVersion) {
      throw ApiError.validation('expectedVersion', 'the If-Match header and the body name different versions; send one of them');
    }
    body.expectedVersion = expectedVersion;
  }
  if (Object.hasOwn(body, 'actor')) {
    if (body.actor !== actor) {
      throw new ApiError({
        code: 'FORBIDDEN',
        message: `you are logged in as ${actor}: a command cannot name another actor; leave actor out`,
      });
    }
    // The subject names the actor (`.as.<actor>`): the body need not.
    delete body.actor;
  }
  const checked = validateBody(commandSchemas[name], body, `${name} command`);
  if (!checked.ok) throw new ApiError(checked.error);
  return checked.value as CommandBody<N>;
}
