import type { z } from 'zod';
import { errorReply, validateBody, type ErrorReply } from '#contracts';

type Schemas = Record<string, z.ZodType>;

export type ApiRequest<S extends Schemas> = { [N in keyof S & string]: { ok: true; name: N; body: z.output<S[N]> } }[keyof S & string];

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
  const name = subject.slice(config.subjectPrefix.length + side.length + 2);
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
