import type { z } from 'zod';
import { commandSchemas, errorReply, validateBody, type ErrorReply } from '#contracts';

type Schemas = Record<string, z.ZodType>;

export type ApiRequest<S extends Schemas> = { [N in keyof S & string]: { ok: true; name: N; body: z.output<S[N]> } }[keyof S & string];

/** A command request: its body's `actor` is the one the subject names, when it names one. */
export type CommandRequest = ApiRequest<typeof commandSchemas> & {
  /** Whether the actor came from the subject (`<prefix>.cmd.<name>.as.<actor>`), where NATS permissions can vouch for it. */
  actorFromSubject: boolean;
};

/**
 * What a request on `<prefix>.<side>.<name>` asks: the name and its body, validated at the edge
 * against the schema of that name; or the error reply (UNKNOWN_COMMAND, VALIDATION_FAILED).
 */
export function readApiRequest<S extends Schemas>(
  subject: string,
  body: unknown,
  config: { subjectPrefix: string },
  side: 'cmd' | 'query',
  schemas: S,
): ApiRequest<S> | ErrorReply {
  return readNamedRequest(subject.slice(config.subjectPrefix.length + side.length + 2), subject, body, side, schemas);
}

/**
 * A command on `<prefix>.cmd.<name>`, with its actor in the body (default anonymous), or on
 * `<prefix>.cmd.<name>.as.<actor>`, the subject's last token naming the actor: NATS permissions
 * can let each user publish under its own name only. A body naming another actor is VALIDATION_FAILED.
 */
export function readCommandRequest(subject: string, body: unknown, config: { subjectPrefix: string }): CommandRequest | ErrorReply {
  const tokens = subject.slice(config.subjectPrefix.length + '.cmd.'.length).split('.');
  if (tokens.length !== 3 || tokens[1] !== 'as') {
    const request = readApiRequest(subject, body, config, 'cmd', commandSchemas);
    return request.ok ? { ...request, actorFromSubject: false } : request;
  }
  const [name, , actor] = tokens as [string, string, string];
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  const bodyActor = isObject ? (body as { actor?: unknown }).actor : undefined;
  if (bodyActor !== undefined && bodyActor !== actor) {
    const message = `the body's actor ${JSON.stringify(bodyActor)} is not ${JSON.stringify(actor)}, the actor the subject names: leave actor out of the body`;
    return errorReply({
      code: 'VALIDATION_FAILED',
      message: `invalid ${name} command: actor: ${message}`,
      issues: [{ path: 'actor', message }],
    });
  }
  // The subject's actor goes through the body's schema, and its limits, like any other.
  const request = readNamedRequest(name, subject, isObject ? { ...(body as object), actor } : body, 'cmd', commandSchemas);
  return request.ok ? { ...request, actorFromSubject: true } : request;
}

function readNamedRequest<S extends Schemas>(
  name: string,
  subject: string,
  body: unknown,
  side: 'cmd' | 'query',
  schemas: S,
): ApiRequest<S> | ErrorReply {
  const what = side === 'cmd' ? 'command' : 'query';
  if (!Object.hasOwn(schemas, name)) {
    return errorReply({
      code: 'UNKNOWN_COMMAND',
      message: `there is no ${what} "${name}" (subject ${subject}); use one of ${Object.keys(schemas).join(', ')}`,
    });
  }
  const validated = validateBody(schemas[name]!, body, `${name} ${what}`);
  return validated.ok ? ({ ok: true, name, body: validated.value } as ApiRequest<S>) : validated;
}
