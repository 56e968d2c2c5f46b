import { describe, expect, it } from 'vitest';
import {
  ClosedConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';
import { natsFailure } from './nats-failure.js';

describe('natsFailure', () => {
  it('calls NATS or JetStream momentarily gone UNAVAILABLE', () => {
    const noResponders = new RequestError('no responders', { cause: new NoRespondersError('$JS.API.DIRECT.GET.JOBS') });
    for (const error of [
      noResponders,
      // What the JetStream manager throws when its API has no responders.
      new Error('jetstream is not enabled', { cause: noResponders }),
      new NoRespondersError('jobs.events.job-1'),
      new ClosedConnectionError(),
      new DrainingConnectionError(),
      new RequestError('connection closed'),
      new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' }),
    ]) {
      expect(natsFailure(error), error.message).toBe('UNAVAILABLE');
    }
  });

  it('calls a request that got no answer in time TIMEOUT', () => {
    expect(natsFailure(new TimeoutError())).toBe('TIMEOUT');
    expect(natsFailure(new RequestError('timeout', { cause: new TimeoutError() }))).toBe('TIMEOUT');
  });

  it("leaves the service's own faults, a refused permission and JetStream's other answers alone", () => {
    for (const error of [
      new RangeError('Maximum call stack size exceeded'),
      new Error('a commit needs at least one event'),
      new RequestError('Permissions Violation', {
        cause: new PermissionViolationError('Permissions Violation', 'publish', 'jobs.events.x'),
      }),
      new JetStreamApiError({ code: 400, err_code: 10071, description: 'wrong last sequence: 3' }),
      'a string',
      undefined,
    ]) {
      expect(natsFailure(error)).toBeNull();
    }
  });
});
