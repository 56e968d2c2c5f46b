import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option, type OutputConfiguration } from 'commander';
import { JOB_KINDS, JOB_STATUSES, LOG_LEVELS, type JobKind, type JobStatus, type LogLevel, type RejectPolicy } from '#contracts';
import type { QueryInput } from '#client';
import type { CliContext } from './cli-context.js';
import {
  type CsvFormat,
  parseCharacter,
  parseColumnMap,
  parseCount,
  parseDefinition,
  parseKey,
  parseRejectPolicy,
  parseTime,
} from './definitions.js';
import { knownEncoding } from './csv-header.js';
import { UsageError } from './exit-codes.js';

/** The options every command takes. */
export interface GlobalOptions {
  json?: boolean;
  actor?: string;
  server?: string;
}

/** Runs a command's action with a connected context; what it returns is the exit code. */
export type Runner = (globals: GlobalOptions, action: (context: CliContext) => Promise<number>) => Promise<void>;

/** The actions, loaded once a command runs: `jobs --help` needs none of them, nor NATS. */
type Actions = typeof import('./actions/index.js');
const actions = (): Promise<Actions> => import('./actions/index.js');

export const EXIT_CODES_HELP = `
Exit codes:
  0  done; a followed job (import, export) finished
  1  a followed job ended "Finished with error" or "Cancel"; the service refused a command; NATS or the service cannot be reached
  2  the command line is wrong (an unknown command or option, a missing or malformed value)
  130  Ctrl-C while following an import or export (the job goes on)

Environment: NATS_URL (nats://127.0.0.1:4222), NATS_TOKEN, NATS_USER/NATS_PASSWORD, NATS_CREDS,
NATS_TLS_CA/NATS_TLS_CERT/NATS_TLS_KEY, JOBS_SUBJECT_PREFIX (jobs), JOBS_STREAM (JOBS),
JOBS_FILES_BUCKET (JOBS_files), JOBS_ACTOR.`;

/** A parser for commander: a UsageError becomes commander's own "invalid argument" message. */
function parser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof UsageError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

const statusOption = () =>
  new Option('--status <status...>', 'only jobs in these statuses (repeatable)').choices(JOB_STATUSES as unknown as string[]);

interface ListFlags {
  status?: JobStatus[];
  kind?: JobKind;
  createdBy?: string;
  text?: string;
  createdAfter?: string;
  createdBefore?: string;
  sort?: 'createdAt' | 'updatedAt';
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

function withListFilters(command: Command): Command {
  return command
    .addOption(statusOption())
    .addOption(new Option('--kind <kind>', 'only imports or exports').choices(JOB_KINDS as unknown as string[]))
    .option('--created-by <actor>', 'only jobs created by this actor')
    .option('--text <text>', 'only jobs whose label contains this text (any case)')
    .option(
      '--created-after <time>',
      'only jobs created at or after this time (2024-03-01 or ISO-8601)',
      parser(parseTime('--created-after')),
    )
    .option('--created-before <time>', 'only jobs created before this time', parser(parseTime('--created-before')))
    .addOption(new Option('--sort <field>', 'sort by').choices(['createdAt', 'updatedAt']))
    .addOption(new Option('--order <order>', 'newest first (desc) unless asc').choices(['asc', 'desc']))
    .option('--limit <n>', 'jobs on the page (1-500, 50 by default)', parser(parseCount('--limit', 1)))
    .option('--cursor <cursor>', 'the next page, as the previous page said');
}

function listFilters(flags: ListFlags): QueryInput<'list'> {
  const { status, kind, createdBy, text, createdAfter, createdBefore, sort, order, limit, cursor } = flags;
  return { status, kind, createdBy, text, createdAfter, createdBefore, sort, order, limit, cursor };
}

function csvOptions(command: Command): Command {
  return command
    .option('--delimiter <char>', 'field delimiter (\\t for a tab)', parser(parseCharacter('--delimiter')), ',')
    .option('--quote <char>', 'quote character', parser(parseCharacter('--quote')), '"')
    .option('--no-header', 'the file has no header line')
    .option('--encoding <encoding>', 'the file’s encoding (utf-8, latin1, windows-1252, ...)', parser(parseEncoding), 'utf-8');
}

function parseEncoding(value: string): string {
  if (!knownEncoding(value))
    throw new UsageError(`--encoding ${JSON.stringify(value)}: not an encoding (utf-8, latin1, windows-1252, ...)`);
  return value;
}

function csvFormat(flags: { delimiter: string; quote: string; header: boolean; encoding: string }): CsvFormat {
  return { delimiter: flags.delimiter, quote: flags.quote, header: flags.header, encoding: flags.encoding };
}

/**
 * The `jobs` command line: each command's arguments and options, handed to its action through `run`.
 * A usage error throws a CommanderError (after printing it to `output`) rather than exiting.
 */
export function buildProgram(run: Runner, output: OutputConfiguration = {}): Command {
  // Set before the commands are added: each command copies them from the program.
  const program = new Command('jobs')
    .exitOverride()
    .configureOutput(output)
    .description('Follow and drive the jobs of the job-tracking service, over NATS.')
    .option('--json', 'print the replies as JSON, one a line (for scripts)')
    .option('--actor <name>', 'who sends the commands (JOBS_ACTOR, else NATS_USER, else your login name)')
    .option('--server <url>', 'NATS server(s), in place of NATS_URL')
    .showHelpAfterError('(jobs --help lists the commands and options)')
    .addHelpText('after', EXIT_CODES_HELP);

  const globals = (command: Command) => command.optsWithGlobals<GlobalOptions>();

  withListFilters(program.command('list').description('the job list, as a table')).action(async (flags: ListFlags, command: Command) =>
    run(globals(command), async (context) => (await actions()).listJobs(context, listFilters(flags))),
  );

  program
    .command('show')
    .description('one job')
    .argument('<job>', 'the job id')
    .action(async (jobId: string, _flags, command: Command) =>
      run(globals(command), async (context) => (await actions()).showJob(context, jobId)),
    );

  program
    .command('logs')
    .description("a job's log; --follow prints new entries until the job ends (or Ctrl-C)")
    .argument('<job>', 'the job id')
    .option('-f, --follow', 'keep printing new entries until the job ends')
    .addOption(new Option('--level <level...>', 'only entries of these levels').choices(LOG_LEVELS as unknown as string[]))
    .action(async (jobId: string, flags: { follow?: boolean; level?: LogLevel[] }, command: Command) =>
      run(globals(command), async (context) =>
        (await actions()).showLogs(context, jobId, { follow: flags.follow === true, level: flags.level }),
      ),
    );

  program
    .command('rejects')
    .description("a job's rejected records, every page; --csv: as CSV (line,reason,record,at)")
    .argument('<job>', 'the job id')
    .option('--csv', 'CSV with a header line, RFC 4180')
    .action(async (jobId: string, flags: { csv?: boolean }, command: Command) =>
      run(globals(command), async (context) => (await actions()).showRejects(context, jobId, { csv: flags.csv === true })),
    );

  program
    .command('history')
    .description("a job's events, and the job as they left it")
    .argument('<job>', 'the job id')
    .option('--at-version <n>', 'only up to this version: the job as it was then', parser(parseCount('--at-version')))
    .action(async (jobId: string, flags: { atVersion?: number }, command: Command) =>
      run(globals(command), async (context) => (await actions()).showHistory(context, jobId, flags.atVersion)),
    );

  program
    .command('create')
    .description('a job, in "Editing in progress"')
    .requiredOption('--label <label>', 'what people see')
    .addOption(new Option('--kind <kind>', 'import or export').choices(JOB_KINDS as unknown as string[]).makeOptionMandatory())
    .option('--definition <json>', 'the job definition: JSON, or @file to read it from a file')
    .option('--max-rejects <n>', 'stop after this many rejected records ("none": no limit; 100 by default)', parser(parseRejectPolicy))
    .option('--id <job>', 'the job id (a UUID by default)')
    .action(
      async (flags: { label: string; kind: JobKind; definition?: string; maxRejects?: RejectPolicy; id?: string }, command: Command) =>
        run(globals(command), async (context) =>
          (await actions()).createJob(context, {
            jobId: flags.id,
            label: flags.label,
            kind: flags.kind,
            definition:
              flags.definition === undefined ? undefined : parseDefinition(flags.definition, (path) => readFileSync(path, 'utf8')),
            rejectPolicy: flags.maxRejects,
          }),
        ),
    );

  for (const [name, description] of [
    ['start', 'start a job (or restart it from Paused or Server shutdown)'],
    ['pause', 'pause a running job'],
    ['cancel', 'cancel a job'],
  ] as const)
    program
      .command(name)
      .description(description)
      .argument('<job>', 'the job id')
      .action(async (jobId: string, _flags, command: Command) =>
        run(globals(command), async (context) => (await actions()).changeJob(context, name, jobId)),
      );

  withListFilters(
    program.command('watch').description('the job list, live, until Ctrl-C (a line per change when not on a terminal)'),
  ).action(async (flags: ListFlags, command: Command) =>
    run(globals(command), async (context) => (await actions()).watchJobs(context, listFilters(flags))),
  );

  csvOptions(
    program
      .command('import')
      .description('upload a CSV file, import it into a table, and follow the job to its end')
      .argument('<file>', 'the CSV file')
      .requiredOption('--table <table>', 'the table to import into')
      .option('--map <spec...>', 'columns as from:name[:type][:required]; without it, every header column as text')
      .addOption(new Option('--mode <mode>', 'insert new rows, or upsert on --key').choices(['insert', 'upsert']).default('insert'))
      .option('--key <columns>', 'the upsert key, comma-separated', parser(parseKey))
      .option('--batch-size <n>', 'rows written per transaction', parser(parseCount('--batch-size', 1)))
      .option('--label <label>', 'the job label')
      .option('--max-rejects <n>', 'stop after this many rejected lines ("none": no limit; 100 by default)', parser(parseRejectPolicy)),
  ).action(async (file: string, flags: ImportFlags, command: Command) => {
    // Parsed before connecting: a bad --map is a usage error whatever the service says.
    const columns = flags.map === undefined ? undefined : parseColumnMap(flags.map);
    return run(globals(command), async (context) =>
      (await actions()).importFile(context, {
        file,
        table: flags.table,
        columns,
        csv: csvFormat(flags),
        mode: flags.mode,
        key: flags.key,
        batchSize: flags.batchSize,
        label: flags.label,
        rejectPolicy: flags.maxRejects,
      }),
    );
  });

  csvOptions(
    program
      .command('export')
      .description('export a table or a query to a CSV file, following the job to its end')
      .option('--table <table>', 'the table to export')
      .option('--query <sql>', 'a read-only query to export, in place of --table')
      .requiredOption('--to <file>', 'the CSV file to write once the job finished')
      .option('--label <label>', 'the job label'),
  ).action(async (flags: ExportFlags, command: Command) =>
    run(globals(command), async (context) =>
      (await actions()).exportToFile(context, {
        table: flags.table,
        query: flags.query,
        to: flags.to,
        csv: csvFormat(flags),
        label: flags.label,
      }),
    ),
  );

  return program;
}

interface CsvFlags {
  delimiter: string;
  quote: string;
  header: boolean;
  encoding: string;
}

interface ImportFlags extends CsvFlags {
  table: string;
  map?: string[];
  mode: 'insert' | 'upsert';
  key?: string[];
  batchSize?: number;
  label?: string;
  maxRejects?: RejectPolicy;
}

interface ExportFlags extends CsvFlags {
  table?: string;
  query?: string;
  to: string;
  label?: string;
}
