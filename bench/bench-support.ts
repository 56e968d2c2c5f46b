import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';

export interface Measurement {
  name: string;
  operations: number;
  seconds: number;
  latenciesMs: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function merge(measurements: Measurement[]): Measurement {
  return {
    name: measurements[0]!.name,
    operations: measurements.reduce((sum, m) => sum + m.operations, 0),
    seconds: measurements.reduce((sum, m) => sum + m.seconds, 0),
    latenciesMs: measurements.flatMap((m) => m.latenciesMs),
  };
}

export function summarize(m: Measurement) {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b);
  return { name: m.name, perSecond: m.operations / m.seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

export function printTable(rows: Record<string, string | number>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number) => (typeof value === 'number' ? value.toFixed(value >= 100 ? 0 : 2) : value);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(cell(row[column]!)).length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i]!)).join('  ');
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((column) => String(cell(row[column]!)))));
}

export function runId(): string {
  return `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Times one operation and counts it. */
export type Timed = <T>(operation: () => Promise<T>) => Promise<T>;

/** Runs `workers` loops of `work` until `seconds` have passed, timing every operation it runs. */
export async function timedLoops(name: string, workers: number, seconds: number, work: (worker: number, timed: Timed) => Promise<void>): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const timed: Timed = async (operation) => {
    const before = performance.now();
    const result = await operation();
    latenciesMs.push(performance.now() - before);
    return result;
  };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline) await work(worker, timed);
    }),
  );
  return { name, operations: latenciesMs.length, seconds: (performance.now() - started) / 1000, latenciesMs };
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Starts a built app of this repository as its own process and waits until it says it is ready. */
export async function startApp(app: string, env: Record<string, string>): Promise<ChildProcess> {
  // BENCH_PROFILE_DIR: write a CPU profile of the app there, to see where its time goes.
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, path.join(root, 'dist/apps', app, 'src/main.js')], {
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes(' ready in ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${app} exited with ${code} before it was ready`)));
  });
  child.stdout!.resume();
  return child;
}

export function stopApp(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function request(nc: NatsConnection, subject: string, body: unknown): Promise<any> {
  const reply = (await nc.request(subject, JSON.stringify(body), { timeout: 10_000 })).json<any>();
  if (!reply.ok) throw new Error(`${subject}: ${JSON.stringify(reply.error)}`);
  return reply;
}
