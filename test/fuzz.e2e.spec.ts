import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COMMAND_NAMES, ERROR_CODES, QUERY_NAMES, type JobEvent } from '#contracts';
import { startTestService, type TestService } from '#testing/service';

/** FUZZ_SEED replays a run; every failure prints its seed. */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2_500);

let service: TestService;
const jobs = ['fuzz-0', 'fuzz-1', 'fuzz-2', 'fuzz-3'];

beforeAll(async () => {
  service = await startTestService('fuzz', { sides: ['commands', 'queries'] });
  for (const jobId of jobs) await service.command('create', { jobId, label: jobId, kind: 'import' });
  await service.command('start', { jobId: 'fuzz-1' });
  await service.command('start', { jobId: 'fuzz-2' });
  // An executor holds fuzz-2, so that it is pausing, not paused at once.
  await service.command('claim', { jobId: 'fuzz-2', executor: 'executor-1' });
  await service.command('pause', { jobId: 'fuzz-2' });
});

afterAll(async () => {
  await service?.close();
});

// Values of the kinds fields take, near their limits and past them.
const text = (max: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
    fc.constantFrom('', '   ', 'x'.repeat(max), 'x'.repeat(max + 1), `${'é'.repeat(max - 1)}✓`),
  );
const count = fc.oneof(fc.nat(1_000), fc.constantFrom(-1, 1.5, 2 ** 53, 1e20));
const jobId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...jobs) },
  fc.constantFrom('no-such-job', 'x'.repeat(128), 'x'.repeat(129), 'has space', 'dot.ted', '*', '>', ''),
  fc.string({ maxLength: 10 }),
);
const json = fc.jsonValue({ maxDepth: 4 });
const executor = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('executor-1', 'executor-2', 'x'.repeat(200)) },
  fc.constantFrom('', 'x'.repeat(201), 'has space', 'dot.ted', '*', '>'),
);
const leaseMs = fc.oneof(fc.integer({ min: 1_000, max: 600_000 }), fc.constantFrom(999, 600_001, 1_500.5));
const level = fc.constantFrom('info', 'warning', 'error', 'debug');
const meta = {
  commandId: text(200),
  actor: text(200),
  correlationId: text(200),
  causationId: text(200),
  expectedVersion: count,
};

/** A body of each command, valid or nearly: every field of the API, optional ones left out at random. */
const commandBodies: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  create: fc.record(
    {
      ...meta,
      jobId,
      label: text(500),
      kind: fc.constantFrom('import', 'export', 'other'),
      definition: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 4 }),
      rejectPolicy: fc.record({ maxRejects: fc.oneof(count, fc.constant(null)) }),
    },
    { requiredKeys: ['label', 'kind'] },
  ),
  update: fc.record(
    { ...meta, jobId, label: text(500), definition: fc.dictionary(fc.string(), json, { maxKeys: 3 }) },
    { requiredKeys: ['jobId'] },
  ),
  claim: fc.record({ ...meta, jobId, executor, leaseMs }, { requiredKeys: ['jobId', 'executor'] }),
  finish: fc.record({ ...meta, jobId, executor, processed: count, total: count }, { requiredKeys: ['jobId'] }),
  fail: fc.record(
    { ...meta, jobId, executor, error: fc.record({ message: text(4_000), code: text(200) }, { requiredKeys: ['message'] }) },
    { requiredKeys: ['jobId', 'error'] },
  ),
  shutdown: fc.record({ ...meta, jobId, executor, reason: text(2_000) }, { requiredKeys: ['jobId'] }),
  progress: fc.record(
    { ...meta, jobId, executor, processed: count, total: count, checkpoint: json },
    { requiredKeys: ['jobId', 'processed'] },
  ),
  log: fc.record({ ...meta, jobId, executor, level, message: text(8_000) }, { requiredKeys: ['jobId', 'level', 'message'] }),
  reject: fc.record(
    {
      ...meta,
      jobId,
      executor,
      records: fc.array(fc.record({ line: count, reason: text(2_000), record: json }), { minLength: 0, maxLength: 5 }),
    },
    { requiredKeys: ['jobId', 'records'] },
  ),
};
for (const name of ['start', 'pause', 'cancel']) {
  commandBodies[name] = fc.record({ ...meta, jobId }, { requiredKeys: ['jobId'] });
}
for (const name of ['mark-paused', 'mark-cancelled']) {
  commandBodies[name] = fc.record({ ...meta, jobId, executor }, { requiredKeys: ['jobId'] });
}

const cursor = fc.oneof(fc.string({ maxLength: 20 }), fc.base64String({ maxLength: 40 }));
const limit = fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.constantFrom(0, 1_001, -5, 2.5));
/** Queries never wait: no minPosition, so a read-your-write wait cannot slow the run down. */
const queryBodies: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  list: fc.record(
    {
      status: fc.oneof(fc.constantFrom('running', 'finishd'), fc.constant(['editing', 'paused'])),
      kind: fc.constantFrom('import', 'export', 'both'),
      createdBy: text(200),
      createdAfter: fc.constantFrom('2024-01-01T00:00:00Z', 'yesterday'),
      text: text(500),
      sort: fc.constantFrom('createdAt', 'updatedAt', 'label'),
      order: fc.constantFrom('asc', 'desc', 'up'),
      limit,
      cursor,
    },
    { requiredKeys: [] },
  ),
  'status-counts': fc.record(
    { kind: fc.constantFrom('import', 'export', 'both'), createdBy: text(200), text: text(500), status: fc.constant('running') },
    { requiredKeys: [] },
  ),
  get: fc.record({ jobId }),
  logs: fc.record({ jobId, after: count, level, limit }, { requiredKeys: ['jobId'] }),
  rejects: fc.record({ jobId, cursor, limit }, { requiredKeys: ['jobId'] }),
  'rejects-export': fc.record({ jobId }),
  history: fc.record({ jobId, atVersion: count, limit, cursor }, { requiredKeys: ['jobId'] }),
};

/** A valid-looking body broken one way: a field gone, of the wrong type, unknown, or the whole body something else. */
const mutated = (body: fc.Arbitrary<unknown>) =>
  fc.tuple(body, fc.nat(), json, fc.constantFrom('drop', 'retype', 'unknown', 'replace')).map(([value, pick, other, how]) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return other;
    const keys = Object.keys(value);
    const key = keys[pick % Math.max(keys.length, 1)];
    if (how === 'replace' || key === undefined) return other;
    if (how === 'drop') return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
    if (how === 'unknown') return { ...value, [`${key}X`]: other };
    return { ...value, [key]: other };
  });

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

/** The bytes of a request body, shown in a failure by their first 200 characters. */
class Body {
  constructor(readonly bytes: Uint8Array) {}

  [fc.toStringMethod](): string {
    const text = Buffer.from(this.bytes).toString('utf8');
    return `${JSON.stringify(text.slice(0, 200))}${text.length > 200 ? '…' : ''} (${this.bytes.length} bytes)`;
  }
}

/** The bytes of a body: JSON of a value, or something no JSON reader should take. */
const encoded = (body: fc.Arbitrary<unknown>): fc.Arbitrary<Body> =>
  fc
    .oneof(
      { weight: 12, arbitrary: body.map((value) => Buffer.from(JSON.stringify(value) ?? '')) },
      // Truncated JSON.
      fc.tuple(body, fc.nat()).map(([value, cut]) => {
        const text = JSON.stringify(value) ?? '';
        return Buffer.from(text.slice(0, cut % (text.length + 1)));
      }),
      // A byte that is not UTF-8 somewhere in it.
      fc.tuple(body, fc.nat(), fc.constantFrom(0xff, 0xc3, 0x80, 0xed)).map(([value, at, byte]) => {
        const bytes = Buffer.from(JSON.stringify(value) ?? '{}');
        bytes[at % bytes.length] = byte;
        return bytes;
      }),
      fc.constantFrom(new Uint8Array(), Buffer.from('null'), Buffer.from('[]'), Buffer.from('"str"'), Buffer.from('{"a":1}{}')),
      fc.integer({ min: 60, max: 4_200 }).map((depth) => Buffer.from(`{"jobId":"fuzz-1","definition":{"a":${nested(depth)}}}`)),
      fc.uint8Array({ maxLength: 64 }),
      // Near and over the body limit; numbers written to grow when read and written again.
      fc
        .constantFrom(256 * 1024 - 300, 256 * 1024 + 1)
        .map((size) => Buffer.from(JSON.stringify({ label: 'x'.repeat(size), kind: 'import' }))),
      fc.constant(
        Buffer.from(`{"jobId":"fuzz-1","records":[{"line":1,"reason":"big","record":[${Array(50_000).fill('1E20').join(',')}]}]}`),
      ),
    )
    .map((bytes) => new Body(bytes));

const subjectAndBody = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(...COMMAND_NAMES).chain((name) => fc.tuple(fc.constant(`cmd.${name}`), request(commandBodies[name]!))),
  },
  {
    weight: 8,
    arbitrary: fc.constantFrom(...QUERY_NAMES).chain((name) => fc.tuple(fc.constant(`query.${name}`), request(queryBodies[name]!))),
  },
  fc.tuple(fc.constantFrom('cmd.begin', 'query.everything', 'cmd.start.extra', 'cmd.start.as.fuzzer', 'query.get.more'), request(json)),
);

function request(body: fc.Arbitrary<unknown>): fc.Arbitrary<Body> {
  return encoded(fc.oneof({ weight: 2, arbitrary: body }, { weight: 2, arbitrary: mutated(body) }, json));
}

/**
 * The actors of the commits stored after `head` up to `after`. Claims the fuzz makes lease jobs to
 * executors that never heartbeat: the lease monitor shuts those jobs down whenever it checks, in the
 * middle of any request.
 */
async function appendedBy(jsm: JetStreamManager, head: number, after: number): Promise<string[]> {
  const actors: string[] = [];
  for (let seq = head + 1; seq <= after; seq++) {
    const message = await jsm.streams.getMessage(service.config.stream, { seq });
    actors.push(...(message?.json<JobEvent[]>() ?? []).map((event) => event.actor));
  }
  return actors;
}

it(`answers ${REQUESTS} generated requests with typed replies, appends nothing on an error, and keeps answering (seed ${SEED})`, async () => {
  const jsm = await jetstreamManager(service.nc);
  const lastSequence = async () => (await jsm.streams.info(service.config.stream)).state.last_seq;
  let head = await lastSequence();
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(subjectAndBody, async ([subject, body]) => {
      const reply = await service.request(`${service.config.subjectPrefix}.${subject}`, body.bytes);
      const after = await lastSequence();
      const outcome = reply.ok === true ? 'ok' : reply.error?.code;
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      if (reply.ok !== true) {
        expect(reply).toMatchObject({ ok: false, error: { code: expect.any(String), message: expect.any(String) } });
        expect(ERROR_CODES).toContain(reply.error.code);
        // Nothing in a request, however wrong, is a fault of the service.
        expect(reply.error.code).not.toBe('INTERNAL');
        if (after !== head) {
          // Only the lease monitor appended meanwhile.
          expect(new Set(await appendedBy(jsm, head, after)), `${subject} answered ${reply.error.code} yet appended`).toEqual(
            new Set(['lease-monitor']),
          );
        }
      } else {
        expect(reply.ok).toBe(true);
      }
      head = after;
    }),
    { seed: SEED, numRuns: REQUESTS, endOnFailure: true },
  );
  // Each kind of answer came up: the generators reach past validation.
  expect([...seen.keys()]).toEqual(
    expect.arrayContaining(['ok', 'VALIDATION_FAILED', 'UNKNOWN_COMMAND', 'JOB_NOT_FOUND', 'PAYLOAD_TOO_LARGE']),
  );
  expect(await service.command('create', { label: 'After the fuzz', kind: 'export' })).toMatchObject({ ok: true, version: 1 });
}, 120_000);
