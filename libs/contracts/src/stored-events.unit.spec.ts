import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMA_VERSION, JOB_EVENT_TYPES } from './events.js';
import { eventDataSchemas, isEventData, isStoredEvent, storedEventSchema } from './stored-events.js';

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

/** Data of the types isEventData knows, as the service writes them, then changed or not. */
const eventData = fc.oneof(
  fc.record({
    type: fc.constant('MessageLogged' as const),
    data: fc.record({ level: fc.constantFrom('info', 'warning', 'error'), message: fc.string() }),
  }),
  fc.record({
    type: fc.constant('ProgressReported' as const),
    data: fc.record({ processed: fc.nat(), total: fc.nat(), checkpoint: fc.jsonValue() }, { requiredKeys: ['processed'] }),
  }),
  fc.record({
    type: fc.constant('RecordsRejected' as const),
    data: fc.record({
      records: fc.array(
        fc.record({ line: fc.integer({ min: 1 }), reason: fc.string({ minLength: 1, maxLength: 3000 }), record: fc.jsonValue() }),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
      rejectedTotal: fc.nat(),
    }),
  }),
);
const changedData = fc
  .tuple(
    eventData,
    fc.constantFrom('level', 'message', 'processed', 'total', 'checkpoint', 'records', 'rejectedTotal', 'extra'),
    fc.anything(),
    fc.boolean(),
  )
  .map(([{ type, data }, key, value, remove]) => {
    const copy: Record<string, unknown> = JSON.parse(JSON.stringify(data));
    if (remove) delete copy[key];
    else copy[key] = value;
    return { type, data: copy };
  });

describe('isEventData: the schema of the commonest event data, without a copy of each', () => {
  it('never accepts what the schema refuses, and accepts what the service writes', () => {
    fc.assert(
      fc.property(fc.oneof(eventData, changedData), ({ type, data }) => {
        const parsed = JSON.parse(JSON.stringify(data));
        if (isEventData(type, parsed)) expect(eventDataSchemas[type].safeParse(parsed).success).toBe(true);
      }),
      { numRuns: 5_000 },
    );
    fc.assert(
      fc.property(eventData, ({ type, data }) => {
        const parsed = JSON.parse(JSON.stringify(data));
        // A reason of white space only is one the schema refuses too: the service never writes one.
        if (eventDataSchemas[type].safeParse(parsed).success) expect(isEventData(type, parsed)).toBe(true);
      }),
    );
  });

  it('takes a Claimed event of an executor id and a lease, as the schema does', () => {
    expect(eventDataSchemas.Claimed.safeParse({ executor: 'worker-1', leaseMs: 15_000 }).success).toBe(true);
    expect(eventDataSchemas.Claimed.safeParse({ executor: 'worker.1', leaseMs: 15_000 }).success).toBe(false);
    expect(eventDataSchemas.Claimed.safeParse({ executor: 'worker-1' }).success).toBe(false);
  });

  it('leaves every other type to the schema', () => {
    expect(isEventData('Created', { label: 'x', kind: 'import', definition: {}, rejectPolicy: { maxRejects: 1 } })).toBe(false);
  });
});
