import { describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH, readRequestBody } from './request-body.js';

const bytes = (text: string) => Buffer.from(text);
const nested = (levels: number, inner = '1') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

describe('readRequestBody', () => {
  it('reads JSON, an empty body as {}, and unwraps a NestJS envelope', () => {
    expect(readRequestBody(bytes('{"jobId":"job-1"}'))).toEqual({ ok: true, body: { jobId: 'job-1' } });
    expect(readRequestBody(new Uint8Array())).toEqual({ ok: true, body: {} });
    expect(readRequestBody(bytes('{"pattern":"cmd.start","data":{"jobId":"j"},"id":"1"}'))).toEqual({ ok: true, body: { jobId: 'j' } });
  });

  it(`accepts ${MAX_BODY_DEPTH} levels of nesting, also inside a NestJS envelope, and refuses one more, naming the limit`, () => {
    expect(readRequestBody(bytes(nested(MAX_BODY_DEPTH)))).toMatchObject({ ok: true });
    expect(readRequestBody(bytes(`{"pattern":"p","id":"1","data":${nested(MAX_BODY_DEPTH)}}`))).toMatchObject({ ok: true });
    for (const text of [nested(MAX_BODY_DEPTH + 1), `{"pattern":"p","id":"1","data":${nested(MAX_BODY_DEPTH + 1)}}`, nested(4_105)]) {
      expect(readRequestBody(bytes(text))).toEqual({
        ok: false,
        error: {
          code: 'VALIDATION_FAILED',
          message: 'the request body nests objects and arrays more than 64 levels deep: send at most 64 levels',
          issues: [
            { path: '(body)', message: 'the request body nests objects and arrays more than 64 levels deep: send at most 64 levels' },
          ],
        },
      });
    }
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ reason: `"${'['.repeat(500)}\\"{{{{`, record: '[[[[' });
    expect(readRequestBody(bytes(text))).toMatchObject({ ok: true, body: { record: '[[[[' } });
  });

  it('refuses bytes that are not UTF-8 rather than replacing them', () => {
    expect(readRequestBody(Buffer.from('{"record":"caf\u00e9"}', 'latin1'))).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', message: 'the request body is not valid UTF-8: send JSON text encoded as UTF-8' },
    });
    expect(readRequestBody(bytes('{"record":"café ✓"}'))).toEqual({ ok: true, body: { record: 'café ✓' } });
  });

  it('refuses text that is not JSON', () => {
    expect(readRequestBody(bytes('{"limit":'))).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', message: 'the request body is not valid JSON' },
    });
  });
});
