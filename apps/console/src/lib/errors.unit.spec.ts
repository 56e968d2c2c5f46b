import { describe, expect, it } from 'vitest';
import { describeError } from './errors.js';

describe('errors in words', () => {
  it('says that the job moved on, and its new status, on an invalid transition', () => {
    const error = describeError(409, {
      ok: false,
      error: { code: 'INVALID_TRANSITION', message: 'cannot pause a paused job', status: 'paused', command: 'pause' },
    });
    expect(error).toEqual({
      code: 'INVALID_TRANSITION',
      httpStatus: 409,
      status: 'paused',
      words: 'The job moved on: it is now "Paused", and a job in that status cannot be paused.',
    });
  });

  it('lists what validation refused, with where', () => {
    const error = describeError(400, {
      ok: false,
      error: { code: 'VALIDATION_FAILED', message: 'invalid', issues: [{ path: 'label', message: 'too long' }] },
    });
    expect(error.words).toBe('The service refused what was sent: label: too long.');
  });

  it('tells a server out of reach from a fault of the server', () => {
    expect(describeError(0, null).words).toMatch(/cannot reach the server/);
    expect(describeError(502, '<html>').words).toBe('Something went wrong on the server (INTERNAL, HTTP 502). Try again later.');
    expect(describeError(503, { ok: false, error: { code: 'UNAVAILABLE', message: 'x' } }).words).toMatch(/nothing was changed/);
  });
});
