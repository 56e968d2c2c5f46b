import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA_VERSION, JOB_EVENT_TYPES } from './events.js';
import { isStoredEvent, storedEventSchema } from './stored-events.js';

const text = fc.string({ minLength: 1, maxLength: 8 });

/** Metadata as the service writes it, with and without its optional fields. */
const storedEvent = fc.record(
  {
    eventId: text,
    type: fc.constantFrom(...JOB_EVENT_TYPES),
    schemaVersion: fc.integer({ min: 1, max: EVENT_SCHEMA_VERSION }),
    jobId: text,
    version: fc.integer({ min: 1 }),
    at: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString()),
    commandId: text,
    commandDigest: text,
    correlationId: text,
    causationId: text,
    actor: text,
    actorAuthenticated: fc.boolean(),
    data: fc.jsonValue(),
  },
  {
    requiredKeys: [
      'eventId',
      'type',
      'schemaVersion',
      'jobId',
      'version',
      'at',
      'commandId',
      'correlationId',
      'causationId',
      'actor',
      'data',
    ],
  },
);

/** A field of a stored event with another value, a missing field, or one more field. */
const changed = fc
  .tuple(
    storedEvent,
    fc.constantFrom(...Object.keys(storedEventSchema.shape), 'extra'),
    fc.oneof(fc.anything(), fc.constant(undefined)),
    fc.boolean(),
  )
  .map(([event, key, value, remove]) => {
    const copy: Record<string, unknown> = JSON.parse(JSON.stringify(event));
    if (remove) delete copy[key];
    else copy[key] = value;
    return copy;
  });

describe('isStoredEvent: the schema of stored events, without a copy of each', () => {
  it('accepts what the service writes, as the schema does', () => {
    fc.assert(
      fc.property(storedEvent, (event) => {
        const parsed = JSON.parse(JSON.stringify(event));
        expect(storedEventSchema.safeParse(parsed).success).toBe(true);
        expect(isStoredEvent(parsed)).toBe(true);
      }),
    );
  });

  it('never accepts what the schema refuses', () => {
    fc.assert(
      fc.property(fc.oneof(changed, fc.anything()), (value) => {
        if (isStoredEvent(value)) expect(storedEventSchema.safeParse(value).success).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses a time without an offset, a version that is not a whole number, a key the schema does not name', () => {
    const event = { ...fc.sample(storedEvent, { numRuns: 1, seed: 1 })[0]! };
    expect(isStoredEvent({ ...event, at: '2024-03-01T09:00:00' })).toBe(false);
    expect(isStoredEvent({ ...event, version: 1.5 })).toBe(false);
    expect(isStoredEvent({ ...event, position: 3 })).toBe(false);
  });
});
