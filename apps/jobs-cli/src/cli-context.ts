import { jetstreamManager } from '@nats-io/jetstream';
import type { JobsClient } from '#client';
import type { CliSettings } from './settings.js';

/** What every command's action gets: the client, the settings, how to print, and Ctrl-C. */
export interface CliContext {
  client: JobsClient;
  settings: CliSettings;
  /** `--json`: replies as JSON, one a line. */
  json: boolean;
  /** A line to stdout. */
  out(line: string): void;
  /** Text to stdout as it is (CSV). */
  write(text: string): void;
  /** A line to stderr: what people read beside the results (progress, where a file went). */
  err(line: string): void;
  /** Whether stdout is a terminal: a live table rather than a line per change. */
  interactive: boolean;
  /** Fires on Ctrl-C. */
  signal: AbortSignal;
}

/** Prints a value as one line of JSON. */
export function printJson(context: CliContext, value: unknown): void {
  context.out(JSON.stringify(value));
}

/**
 * The position of the last commit in the events stream: following from there sees every change
 * after a read made now. 0 (everything from the start) when the stream's state may not be read.
 */
export async function eventsHead(context: CliContext): Promise<number> {
  try {
    const jsm = await jetstreamManager(context.client.nc);
    return (await jsm.streams.info(context.settings.stream)).state.last_seq;
  } catch {
    return 0;
  }
}

/** Event types after which a job is in a final status. */
export const FINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['Finished', 'Errored', 'Cancelled']);
