import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RejectedRecordInput } from '#contracts';
import type { ExecutorJob, JobContext } from '#executor';
import { createTestSchema } from '#testing/postgres';
import { CHECKPOINT_TABLE } from './checkpoints.js';
import { type DatabaseSettings, type JobDatabase, openDatabase } from './database.js';
import { exportHandler } from './export-handler.js';
import { JobFiles } from './files.js';
import { importHandler, type WorkerSettings } from './import-handler.js';
import { sql } from 'kysely';

/** What a handler did through its context; rejects sent again under the same key count once, as the executor does it. */
class RecordingContext implements JobContext {
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  readonly rejects: RejectedRecordInput[] = [];
  readonly rejectKeys: string[] = [];
  readonly checkpoints: { value: unknown; processed: number; total?: number }[] = [];
  readonly progressed: [number, number | undefined][] = [];
  /** The processed counts of every progress and checkpoint, in order: one a batch committed, one at the end. */
  readonly reports: number[] = [];
  readonly logs: string[] = [];
  private readonly keys = new Set<string>();

  constructor(
    private readonly hooks: { onReject?: (context: RecordingContext) => void; onReport?: (context: RecordingContext) => void } = {},
  ) {}

  /** The keys of rejects an earlier run of the job sent. */
  knowKeys(keys: string[]): void {
    for (const key of keys) this.keys.add(key);
  }

  progress(processed: number, total?: number): void {
    this.progressed.push([processed, total]);
    this.reports.push(processed);
    this.hooks.onReport?.(this);
  }

  async log(level: string, message: string): Promise<void> {
    this.logs.push(`${level}: ${message}`);
  }

  async reject(records: RejectedRecordInput[], options?: { key?: string }): Promise<void> {
    if (options?.key) this.rejectKeys.push(options.key);
    if (!options?.key || !this.keys.has(options.key)) this.rejects.push(...records);
    if (options?.key) this.keys.add(options.key);
    this.hooks.onReject?.(this);
  }

  /** A hook that throws here throws to the handler, as a crash in the middle of its call would end it. */
  checkpoint(value: unknown, processed: number, total?: number): Promise<void> {
    this.checkpoints.push({ value, processed, total });
    this.reports.push(processed);
    this.hooks.onReport?.(this);
    return Promise.resolve();
  }
}

const job = (definition: Record<string, unknown>, jobId = `job_${randomBytes(4).toString('hex')}`): ExecutorJob => ({
  jobId,
  kind: 'import',
  label: 'test',
  definition,
  rejectPolicy: { maxRejects: null },
  checkpoint: null,
  processed: 0,
  total: null,
  rejected: 0,
});

/** 60 lines after the header; lines 5, 12, 13, 30 and 47 (file lines) are bad, each in its own way. */
function peopleFile(): { text: string; good: string[]; bad: Map<number, string> } {
  const lines = ['E-mail,Name,Age,Active'];
  const good: string[] = [];
  const bad = new Map<number, string>();
  const faults: Record<number, [string, string]> = {
    5: ['nobody,N5,30,yes', 'email: "nobody" is not an email address'],
    12: ['p12@example.org,N12,old,yes', 'age: "old" is not an integer'],
    13: ['"p13@example.org"x,N13,1,no', 'the line does not parse: text after a closing quote'],
    30: ['p30@example.org,N30', 'the line has 2 fields where the header has 4'],
    47: [',N47,3,no', 'email is required'],
  };
  for (let line = 2; line <= 61; line++) {
    const fault = faults[line];
    if (fault) {
      lines.push(fault[0]);
      bad.set(line, fault[1]);
    } else {
      lines.push(`p${line}@example.org,"N${line}, the ${line}th",${line},${line % 2 ? 'yes' : 'no'}`);
      good.push(`p${line}@example.org`);
    }
  }
  return { text: `${lines.join('\r\n')}\r\n`, good, bad };
}

const importDefinition = (overrides: Record<string, unknown> = {}) => ({
  source: { file: 'in/people.csv' },
  table: 'people',
  columns: [
    { name: 'email', from: 'E-mail', type: 'email', required: true },
    { name: 'name', from: 'Name' },
    { name: 'age', from: 'Age', type: 'integer' },
    { name: 'active', from: 'Active', type: 'boolean' },
  ],
  batchSize: 7,
  ...overrides,
});

interface Target {
  name: 'PostgreSQL' | 'SQLite';
  open(): Promise<{ settings: DatabaseSettings; drop(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'PostgreSQL',
    open: async () => {
      const schema = await createTestSchema('worker');
      return { settings: { url: schema.url, sqliteFile: '' }, drop: schema.drop };
    },
  },
  {
    name: 'SQLite',
    open: async () => {
      const folder = mkdtempSync(path.join(tmpdir(), 'worker-sqlite-'));
      return {
        settings: { sqliteFile: path.join(folder, 'imports.sqlite') },
        drop: async () => rmSync(folder, { recursive: true, force: true }),
      };
    },
  },
];

describe.each(targets)('imports and exports on $name', (target) => {
  let folder: string;
  let settings: WorkerSettings;
  let database: JobDatabase;
  let drop: () => Promise<void>;

  beforeEach(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'worker-files-'));
    const opened = await target.open();
    drop = opened.drop;
    settings = { database: opened.settings, files: new JobFiles(folder, 'unused', null) };
    database = openDatabase(opened.settings);
    await database.db.schema
      .createTable('people')
      .addColumn('email', 'varchar(200)', (column) => column.primaryKey())
      .addColumn('name', 'text')
      .addColumn('age', 'integer')
      .addColumn('active', 'boolean')
      .execute();
    mkdirSync(path.join(folder, 'in'));
    writeFileSync(path.join(folder, 'in', 'people.csv'), peopleFile().text);
  });

  afterEach(async () => {
    await database.close();
    await drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const people = async () => {
    type Stored = { email: string; name: string; age: number | string | null; active: boolean | number | null };
    const rows = (await database.db.selectFrom('people').selectAll().orderBy('email').execute()) as Stored[];
    return rows.map((row) => ({
      ...row,
      age: row.age === null ? null : Number(row.age),
      active: row.active === null ? null : Boolean(row.active),
    }));
  };
  const emails = async () => (await people()).map((row) => row.email);

  it('writes exactly the good lines and rejects exactly the bad ones, with their line numbers and reasons', async () => {
    const { good, bad } = peopleFile();
    const context = new RecordingContext();
    const outcome = await importHandler(settings)(job(importDefinition()), context);

    expect(outcome).toEqual({ processed: 60, total: 60 });
    expect(await emails()).toEqual([...good].sort());
    expect((await people()).find((row) => row.email === 'p2@example.org')).toEqual({
      email: 'p2@example.org',
      name: 'N2, the 2th',
      age: 2,
      active: false,
    });
    expect(context.rejects.map((reject) => reject.line)).toEqual([...bad.keys()]);
    for (const reject of context.rejects) expect(reject.reason).toContain(bad.get(reject.line));
    expect(context.rejects.find((reject) => reject.line === 12)!.record).toEqual({
      'E-mail': 'p12@example.org',
      Name: 'N12',
      Age: 'old',
      Active: 'yes',
    });
    // Batches of 7 lines: each commit reports its progress; the job's checkpoint follows at most once a second, and at the end.
    expect(context.reports).toEqual([7, 14, 21, 28, 35, 42, 49, 56, 60, 60]);
    expect(context.checkpoints.map((checkpoint) => checkpoint.value)).toEqual([{ line: 8 }, { line: 61 }]);
    expect(context.checkpoints.at(-1)!.processed).toBe(60);
    expect(context.rejectKeys[0]).toMatch(/^job_[0-9a-f]+:lines:2-8:0$/);
    expect(context.logs.at(-1)).toBe(
      'info: Imported file in/people.csv into table people: 55 rows written, 5 lines rejected, 60 lines read',
    );
  });

  it('keeps the text of a UTF-8 file beyond ASCII as it is, in the table and in the rejects', async () => {
    writeFileSync(
      path.join(folder, 'in', 'accents.csv'),
      '\ufeffE-mail,Name,Age,Active\nzoë@exàmple.fr,"Zoë, l’aînée",30,yes\nrené@example.org,René\u00a0,âge,no\n',
    );
    const context = new RecordingContext();
    await importHandler(settings)(job(importDefinition({ source: { file: 'in/accents.csv' } })), context);
    expect(await people()).toEqual([{ email: 'zoë@exàmple.fr', name: 'Zoë, l’aînée', age: 30, active: true }]);
    expect(context.rejects).toEqual([
      {
        line: 3,
        reason: 'age: "âge" is not an integer',
        record: { 'E-mail': 'rené@example.org', Name: 'René\u00a0', Age: 'âge', Active: 'no' },
      },
    ]);
  });

  it("sends a batch's rejects in one command, or one for each 1,000 lines when the job has a reject limit", async () => {
    const lines = ['E-mail,Name,Age,Active'];
    for (let line = 2; line <= 2_501; line++)
      lines.push([10, 1_500, 1_501, 2_400].includes(line) ? `bad${line},x,1,yes` : `p${line}@x.org,x,1,yes`);
    writeFileSync(path.join(folder, 'in', 'many.csv'), `${lines.join('\n')}\n`);
    const definition = importDefinition({ source: { file: 'in/many.csv' }, batchSize: 5_000 });
    const keys = (context: RecordingContext) => context.rejectKeys.map((key) => key.replace(/^job_[0-9a-f]+/, ''));

    const unlimited = new RecordingContext();
    await importHandler(settings)(job(definition), unlimited);
    expect(keys(unlimited)).toEqual([':lines:2-2501:0']);
    expect(unlimited.rejects.map((reject) => reject.line)).toEqual([10, 1_500, 1_501, 2_400]);

    await database.db.deleteFrom('people').execute();
    const limited = new RecordingContext();
    await importHandler(settings)({ ...job(definition), rejectPolicy: { maxRejects: 100 } }, limited);
    expect(keys(limited)).toEqual([':lines:2-2501:0', ':lines:2-2501:1', ':lines:2-2501:2']);
    expect(limited.rejects.map((reject) => reject.line)).toEqual([10, 1_500, 1_501, 2_400]);
  });

  it('upserts on a key: a later line, or a later import, updates the row', async () => {
    writeFileSync(path.join(folder, 'in', 'upsert.csv'), 'E-mail,Name,Age,Active\na@x.org,A,1,yes\nb@x.org,B,2,no\na@x.org,A2,3,no\n');
    const definition = importDefinition({ source: { file: 'in/upsert.csv' }, mode: 'upsert', key: ['email'] });
    await importHandler(settings)(job(definition), new RecordingContext());
    writeFileSync(path.join(folder, 'in', 'upsert.csv'), 'E-mail,Name,Age,Active\nb@x.org,B2,20,yes\nc@x.org,C,30,\n');
    await importHandler(settings)(job(definition), new RecordingContext());
    expect(await people()).toEqual([
      { email: 'a@x.org', name: 'A2', age: 3, active: false },
      { email: 'b@x.org', name: 'B2', age: 20, active: true },
      { email: 'c@x.org', name: 'C', age: 30, active: null },
    ]);
  });

  it('rejects the lines the database refuses (a duplicate key) and writes the rest of their batch', async () => {
    await database.db.insertInto('people').values({ email: 'b@x.org', name: 'before', age: 1, active: null }).execute();
    writeFileSync(
      path.join(folder, 'in', 'dup.csv'),
      'E-mail,Name,Age,Active\na@x.org,A,1,yes\nb@x.org,B,2,no\nc@x.org,C,3,no\na@x.org,A2,4,no\n',
    );
    const context = new RecordingContext();
    const outcome = await importHandler(settings)(job(importDefinition({ source: { file: 'in/dup.csv' } })), context);

    expect(outcome).toEqual({ processed: 4, total: 4 });
    expect((await people()).map((row) => `${row.email} ${row.name}`)).toEqual(['a@x.org A', 'b@x.org before', 'c@x.org C']);
    expect(context.rejects.map((reject) => reject.line)).toEqual([3, 5]);
    for (const reject of context.rejects) expect(reject.reason).toMatch(/^the database refused the line: .*(unique|UNIQUE|duplicate)/);
    expect(context.rejects[0]!.record).toEqual({ 'E-mail': 'b@x.org', Name: 'B', Age: '2', Active: 'no' });
    expect(context.rejectKeys).toEqual([expect.stringMatching(/:lines:2-5:database$/)]);
    expect(context.logs.at(-1)).toContain('2 rows written, 2 lines rejected, 4 lines read');
  });

  it('reads a file without a header by column positions, in another encoding and delimiter', async () => {
    writeFileSync(path.join(folder, 'in', 'latin1.csv'), Buffer.from('René;r@x.org\nZoë;z@x.org\n', 'latin1'));
    const definition = importDefinition({
      source: { file: 'in/latin1.csv' },
      csv: { header: false, delimiter: ';', encoding: 'latin1' },
      columns: [
        { name: 'email', from: 2, type: 'email' },
        { name: 'name', from: 1 },
      ],
    });
    await importHandler(settings)(job(definition), new RecordingContext());
    expect((await people()).map((row) => `${row.email} ${row.name}`)).toEqual(['r@x.org René', 'z@x.org Zoë']);
  });

  const stops: [string, (jobContext: RecordingContext, calls: number) => ConstructorParameters<typeof RecordingContext>[0]][] = [
    ['after a batch was committed', (_, at) => ({ onReport: (context) => context.reports.length === at && context.controller.abort() })],
    [
      'after its rejects were sent, before the commit',
      (_, at) => ({ onReject: (context) => context.rejectKeys.length === at && context.controller.abort() }),
    ],
    [
      'by a crash after a commit',
      (_, at) => ({
        onReport: (context) => {
          if (context.reports.length === at) throw new Error('crash');
        },
      }),
    ],
    [
      'by a crash after the rejects, before the commit',
      (_, at) => ({
        onReject: (context) => {
          if (context.rejectKeys.length === at) throw new Error('crash');
        },
      }),
    ],
  ];

  it.each(stops)('resumes exactly when stopped %s, at several points', async (_, hooks) => {
    const { good, bad } = peopleFile();
    for (const at of [1, 2, 3]) {
      await database.db.deleteFrom('people').execute();
      const definition = importDefinition();
      const stopped = job(definition);
      const first = new RecordingContext(hooks(new RecordingContext(), at));
      await importHandler(settings)(stopped, first).catch((error: Error) => expect(error.message).toBe('crash'));
      const rejectsSoFar = [...first.rejects];

      const resumed = new RecordingContext();
      // The executor's reject keys outlive the run: those of the first run count once.
      resumed.knowKeys(first.rejectKeys);
      const outcome = await importHandler(settings)(stopped, resumed);
      expect(outcome).toEqual({ processed: 60, total: 60 });
      expect(await emails()).toEqual([...good].sort());
      expect([...rejectsSoFar, ...resumed.rejects].map((reject) => reject.line)).toEqual([...bad.keys()]);
      // One line a record: the line after the header and the processed lines is where the run stopped.
      const done = first.reports.at(-1);
      if (done !== undefined) {
        expect(resumed.logs[0]).toBe(
          `info: Resuming the import of file in/people.csv into table people after line ${done + 1} (${done} lines done)`,
        );
      }
    }
  });

  it('returns when the signal fires, leaving the batches committed before and nothing of the next', async () => {
    const context = new RecordingContext({ onReport: (recording) => recording.controller.abort() });
    expect(await importHandler(settings)(job(importDefinition({ batchSize: 20 })), context)).toBeUndefined();
    expect(context.checkpoints).toEqual([{ value: { line: 21 }, processed: 20, total: expect.any(Number) }]);
    expect(await emails()).toEqual(
      peopleFile()
        .good.filter((email) => Number(/\d+/.exec(email)![0]) <= 21)
        .sort(),
    );
    const checkpoint = await database.db.selectFrom(CHECKPOINT_TABLE).selectAll().executeTakeFirstOrThrow();
    expect(Number(checkpoint.line)).toBe(21);
  });

  const refusals: [string, Record<string, unknown>, string, string][] = [
    ['a missing file', { source: { file: 'in/nobody.csv' } }, 'FILE_NOT_FOUND', 'no file "in/nobody.csv"'],
    ['a path outside the folder', { source: { file: '../people.csv' } }, 'PATH_OUTSIDE_FILES_DIR', "outside the jobs' files folder"],
    ['a missing table', { table: 'nobody' }, 'TABLE_NOT_FOUND', 'there is no table "nobody"'],
    ['a missing column', { columns: [{ name: 'mail', from: 'E-mail' }] }, 'COLUMN_NOT_FOUND', 'table "people" has no column "mail"'],
    [
      'a column missing from the file',
      { columns: [{ name: 'email', from: 'Mail' }] },
      'COLUMN_NOT_FOUND',
      'the file\'s header has no column "Mail"',
    ],
    ['a malformed definition', { mode: 'upsert' }, 'DEFINITION_INVALID', 'upsert needs a key'],
  ];

  it.each(refusals)('refuses %s with a clear error and writes nothing', async (_, overrides, code, message) => {
    const context = new RecordingContext();
    await expect(importHandler(settings)(job(importDefinition(overrides)), context)).rejects.toMatchObject({
      code,
      message: expect.stringContaining(message),
    });
    expect(await emails()).toEqual([]);
    expect(context.checkpoints).toEqual([]);
  });

  it('exports a table, and a query, to a file equal to the rows', async () => {
    await importHandler(settings)(job(importDefinition()), new RecordingContext());
    const rows = await people();
    const context = new RecordingContext();
    const exportJob = { ...job({ table: 'people', target: { file: 'out/people.csv' } }), kind: 'export' as const };
    expect(await exportHandler(settings)(exportJob, context)).toEqual({ processed: 55, total: 55 });
    const lines = readFileSync(path.join(folder, 'out', 'people.csv'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('email,name,age,active');
    expect(lines.slice(1).sort()).toEqual(
      rows
        .map(
          (row) =>
            `${row.email},${row.name.includes(',') ? `"${row.name}"` : row.name},${row.age},${row.active ? (target.name === 'SQLite' ? 1 : 'true') : target.name === 'SQLite' ? 0 : 'false'}`,
        )
        .sort(),
    );
    expect(context.logs.at(-1)).toBe('info: Exported 55 rows of table people to file out/people.csv');

    const query = {
      ...job({
        query: 'select email, age * 2 as double_age from people where age < 10 order by age;',
        target: { file: 'q.csv' },
        csv: { delimiter: ';' },
      }),
      kind: 'export' as const,
    };
    await exportHandler(settings)(query, new RecordingContext());
    expect(readFileSync(path.join(folder, 'q.csv'), 'utf8')).toBe(
      `email;double_age\n${rows
        .filter((row) => row.age! < 10)
        .sort((a, b) => a.age! - b.age!)
        .map((row) => `${row.email};${row.age! * 2}`)
        .join('\n')}\n`,
    );
  });

  it('refuses a query that writes, and leaves the table as it was', async () => {
    await importHandler(settings)(job(importDefinition()), new RecordingContext());
    const before = await people();
    const run = (query: string) =>
      exportHandler(settings)({ ...job({ query, target: { file: 'x.csv' } }), kind: 'export' }, new RecordingContext());
    await expect(run('delete from people')).rejects.toMatchObject({ code: 'QUERY_NOT_READ_ONLY' });
    await expect(run('select 1; delete from people')).rejects.toMatchObject({ code: 'QUERY_NOT_READ_ONLY' });
    await expect(run('with gone as (delete from people returning *) select * from gone')).rejects.toMatchObject({ code: 'DATABASE_ERROR' });
    expect(await people()).toEqual(before);
  });
});

describe("PostgreSQL's COPY of a file's lines as they are written", () => {
  let folder: string;
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  let database: JobDatabase;
  let settings: WorkerSettings;

  beforeEach(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'worker-verbatim-'));
    schema = await createTestSchema('verbatim');
    settings = { database: { url: schema.url, sqliteFile: '' }, files: new JobFiles(folder, 'unused', null) };
    database = openDatabase(settings.database);
  });

  afterEach(async () => {
    await database.close();
    await schema.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const COLUMNS = [
    { name: 'id', type: 'integer', sql: 'integer' },
    { name: 'name', type: 'text', sql: 'text' },
    { name: 'amount', type: 'decimal', sql: 'numeric(14,2)' },
    { name: 'active', type: 'boolean', sql: 'boolean' },
    { name: 'born', type: 'date', sql: 'date' },
    { name: 'at', type: 'timestamp', sql: 'timestamptz' },
    { name: 'at_local', type: 'timestamp', sql: 'timestamp' },
    { name: 'email', type: 'email', sql: 'text' },
    { name: 'count_text', type: 'integer', sql: 'text' },
    { name: 'flag_text', type: 'boolean', sql: 'text' },
  ];

  /** Records as written in the file (fields quoted or not), and how each ends. */
  const RECORDS: [string[], string][] = [
    [['1', 'Plain', '12.50', 'true', '1990-01-02', '2024-01-02T03:04:05Z', '2024-01-02 03:04Z', 'a@x.org', '', ''], '\n'],
    [
      [
        '2',
        '"Quoted, with ""quotes"""',
        '3.5',
        'yes',
        '2000-02-29',
        '2024-06-30T23:59:59.123Z',
        '2024-06-30T23:59:59.1Z',
        'b@x.org',
        '',
        '',
      ],
      '\n',
    ],
    [['+003', 'Signed', '-1e2', '1', '2001-01-01', '2024-01-02T03:04Z', '2024-01-02T03:04:05.5Z', 'c@x.org', '', ''], '\n'],
    [['4', '""', '', 'N', '', '', '', 'd@x.org', '', ''], '\n'],
    [['5', '  ', '0', 'f', '', '2024-01-02T03:04:05+02:00', '2024-01-02T03:04:05', 'e@x.org', '', ''], '\n'],
    [['6', 'Zoë l’aînée\u00a0', '1', 't', '', '2024-01-02T03:04:05.123456Z', '', 'f@x.org', '+7', 'true'], '\n'],
    [['7', '"two\nlines"', '1', 'true', '', '', '', 'g@x.org', '', ''], '\n'],
    [['9', 'Upper', '2', 'TRUE', '', '2024-02-29T12:00:00Z', '', 'i@x.org', '', ''], '\n'],
    [[' 10 ', 'Spaced', '3', ' yes ', '', '', '', 'j@x.org', '', ''], '\n'],
    [['11', 'Big', '99999999999.99', 'false', '', '', '', 'k@x.org', '', ''], '\n'],
    // A line break other than the file's: PostgreSQL refuses the batch's COPY, which is then written line by line.
    [['8', 'Crlf', '1', 'true', '', '', '', 'h@x.org', '', ''], '\r\n'],
    [['12', 'Last', '1', 'no', '', '', '', 'l@x.org', '', ''], ''],
  ];

  const file = (extraField: boolean) =>
    [[COLUMNS.map((column) => column.name), '\n'] as [string[], string], ...RECORDS]
      .map(([fields, end], index) => `${[...fields, ...(extraField ? [index ? 'x' : 'extra'] : [])].join(',')}${end}`)
      .join('');

  const rows = async (table: string): Promise<Record<string, unknown>[]> =>
    (await database.db.selectFrom(table).selectAll().orderBy('id').execute()).map((row) => ({
      ...row,
      at: (row.at as Date | null)?.toISOString() ?? null,
      at_local: (row.at_local as Date | null)?.toISOString() ?? null,
    }));

  it('writes the values the converted lines would give, whichever lines go as written', async () => {
    const columns = COLUMNS.map((column) => `${column.name} ${column.sql}`).join(', ');
    const definition = { columns: COLUMNS.map(({ name, type }) => ({ name, type })), batchSize: 4 };
    // Every field a column: lines go as written where they can. With a field the job does not import, no line can.
    writeFileSync(path.join(folder, 'as-written.csv'), file(false));
    writeFileSync(path.join(folder, 'converted.csv'), file(true));
    for (const table of ['as_written', 'converted']) {
      await sql.raw(`create table ${table} (${columns})`).execute(database.db);
      const outcome = await importHandler(settings)(
        job({ ...definition, table, source: { file: `${table.replace('_', '-')}.csv` } }),
        new RecordingContext(),
      );
      expect(outcome).toEqual({ processed: RECORDS.length, total: RECORDS.length });
    }

    const written = await rows('as_written');
    expect(written).toEqual(await rows('converted'));
    expect(written.map((row) => [row.id, row.name, row.active])).toEqual([
      [1, 'Plain', true],
      [2, 'Quoted, with "quotes"', true],
      [3, 'Signed', true],
      [4, null, false],
      [5, null, false],
      [6, 'Zoë l’aînée\u00a0', true],
      [7, 'two\nlines', true],
      [8, 'Crlf', true],
      [9, 'Upper', true],
      [10, 'Spaced', true],
      [11, 'Big', false],
      [12, 'Last', false],
    ]);
    expect(written[2]).toMatchObject({ amount: '-100.00', at: '2024-01-02T03:04:00.000Z' });
    expect(written[5]).toMatchObject({ at: '2024-01-02T03:04:05.123Z', count_text: '7', flag_text: 'true' });
  });

  it("keeps a line that is COPY's end of data marker, \\., as a value like another", async () => {
    await sql`create table notes (note text)`.execute(database.db);
    writeFileSync(path.join(folder, 'notes.csv'), 'note\nfirst\n\\.\nlast\n');
    await importHandler(settings)(
      job({ source: { file: 'notes.csv' }, table: 'notes', columns: [{ name: 'note' }] }),
      new RecordingContext(),
    );
    expect((await database.db.selectFrom('notes').select('note').orderBy('note').execute()).map((row) => row.note)).toEqual([
      '\\.',
      'first',
      'last',
    ]);
  });
});
