import { CommanderError } from 'commander';
import type { JobsClient } from '#client';
import type { CliContext } from './cli-context.js';
import { describeFailure, EXIT } from './exit-codes.js';
import { buildProgram, type GlobalOptions } from './program.js';
import { cliSettings, type CliSettings } from './settings.js';

/** Where the CLI prints and what it reads: the process's own, or a test's. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Ctrl-C: the CLI's process listens for SIGINT. */
  onInterrupt(listener: () => void): () => void;
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onInterrupt: (listener) => {
    process.on('SIGINT', listener);
    return () => process.off('SIGINT', listener);
  },
};

/** How long the CLI waits for its connection to flush what it sent before it exits anyway. */
const CLOSE_WAIT_MS = 2_000;

/** Runs `jobs` on `argv` (as `process.argv`); the exit code. Failures are said in plain words on stderr. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const say = (message: string) => io.stderr.write(`jobs: ${message}\n`);
  const program = buildProgram(
    async (globals, action) => {
      exitCode = await runAction(io, globals, action, say);
    },
    { writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) },
  );
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError)
      // Commander printed the message (and the help, for `jobs` alone); help and --version are no failure.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const { message, exitCode: code } = describeFailure(error, { servers: '', subjectPrefix: '' });
    say(message);
    return code;
  }
  return exitCode;
}

async function runAction(
  io: CliIo,
  globals: GlobalOptions,
  action: (context: CliContext) => Promise<number>,
  say: (message: string) => void,
): Promise<number> {
  const settings: CliSettings = cliSettings(io.env, globals);
  const interrupt = new AbortController();
  const stopListening = io.onInterrupt(() => {
    // A second Ctrl-C does not wait for anything.
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
    interrupt.abort();
  });
  let client: JobsClient | undefined;
  try {
    const { JobsClient } = await import('#client');
    client = await JobsClient.connect({
      ...settings.connection,
      subjectPrefix: settings.subjectPrefix,
      stream: settings.stream,
      actor: settings.actor,
    });
    return await action({
      client,
      settings,
      json: globals.json === true,
      interactive: io.stdout.isTTY === true,
      signal: interrupt.signal,
      out: (line) => io.stdout.write(`${line}\n`),
      write: (text) => io.stdout.write(text),
      err: (line) => io.stderr.write(`${line}\n`),
    });
  } catch (error) {
    const { message, exitCode } = describeFailure(error, settings);
    say(message);
    return exitCode;
  } finally {
    stopListening();
    if (client)
      await Promise.race([client.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
  }
}
