import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '#contracts';
import { httpStatusFor } from './api-error.js';

describe('httpStatusFor', () => {
  it.each([
    ['VALIDATION_FAILED', 400],
    ['UNAUTHENTICATED', 401],
    ['FORBIDDEN', 403],
    ['JOB_NOT_FOUND', 404],
    ['NOT_FOUND', 404],
    ['UNKNOWN_COMMAND', 404],
    ['JOB_EXISTS', 409],
    ['INVALID_TRANSITION', 409],
    ['CONCURRENCY_CONFLICT', 409],
    ['COMMAND_ID_REUSED', 409],
    ['JOB_CLAIMED', 409],
    ['PAYLOAD_TOO_LARGE', 413],
    ['INTERNAL', 500],
    ['UNAVAILABLE', 503],
    ['TIMEOUT', 504],
  ])('%s is %i', (code, status) => {
    expect(httpStatusFor(code)).toBe(status);
  });

  it('maps every code of the NATS API, none by accident to 500 but INTERNAL', () => {
    for (const code of ERROR_CODES) expect(httpStatusFor(code) === 500).toBe(code === 'INTERNAL');
  });

  it('answers 500 for a code it does not know, even one named like a property of every object', () => {
    expect(httpStatusFor('SOMETHING_NEW')).toBe(500);
    expect(httpStatusFor('toString')).toBe(500);
  });
});
