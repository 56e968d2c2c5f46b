import { errorReply, type ErrorReply } from '#contracts';

/** How deep objects and arrays may nest in a request body, the body itself being the first level (a NestJS envelope not counted). */
export const MAX_BODY_DEPTH = 64;

// Fatal: a byte that is not UTF-8 refuses the body rather than becoming U+FFFD, which would grow it.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JSON value of a request body, read before anything else looks at it: UTF-8 only, nested at
 * most MAX_BODY_DEPTH levels (deeper values overflow the stack of whatever walks them later), an
 * empty body as `{}`, and a NestJS `ClientProxy.send` envelope unwrapped.
 */
export function readRequestBody(data: Uint8Array): { ok: true; body: unknown } | ErrorReply {
  if (data.length === 0) return { ok: true, body: {} };
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return invalid('the request body is not valid UTF-8: send JSON text encoded as UTF-8');
  }
  // One level more is read at first: a NestJS envelope holds the body one level down.
  const depth = nestingDepth(text, MAX_BODY_DEPTH + 1);
  if (depth > MAX_BODY_DEPTH + 1) return tooDeep();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return invalid('the request body is not valid JSON');
  }
  if (isNestEnvelope(body)) return { ok: true, body: body.data };
  return depth > MAX_BODY_DEPTH ? tooDeep() : { ok: true, body };
}

function tooDeep(): ErrorReply {
  return invalid(
    `the request body nests objects and arrays more than ${MAX_BODY_DEPTH} levels deep: send at most ${MAX_BODY_DEPTH} levels`,
  );
}

function invalid(message: string): ErrorReply {
  return errorReply({ code: 'VALIDATION_FAILED', message, issues: [{ path: '(body)', message }] });
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * How many objects and arrays JSON text opens inside one another (brackets in strings do not
 * count), read only until it passes `max`.
 */
function nestingDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Straight to the closing quote: a string's content cannot nest.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) return deepest;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

/** A `ClientProxy.send` wraps the body as `{pattern, data, id}`; any other client sends it bare. */
function isNestEnvelope(body: unknown): body is { data: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  return keys.length === 3 && 'pattern' in body && 'data' in body && 'id' in body;
}
