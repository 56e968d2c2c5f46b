import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';

export interface Measurement {
  name: string;
  operations: number;
  seconds: number;
  latenciesMs: number[];
  /** The machine's CPU time during the measurement, and how much of it the host gave to others. */
  cpu?: CpuTicks;
}

export interface CpuTicks {
  steal: number;
  total: number;
}

/** The machine's CPU clock from /proc/stat (all CPUs, in ticks); zero where there is none. */
function cpuTicks(): CpuTicks {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { steal: fields[7] ?? 0, total: fields.reduce((sum, ticks) => sum + ticks, 0) };
  } catch {
    return { steal: 0, total: 0 };
  }
}

/**
 * Runs `work` and tells how much CPU the virtual machine's host took for other guests meanwhile
 * ("steal"). On a shared host it can slow one side of a comparison and not the other, so the bench
 * prints it next to every figure.
 */
export async function withCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpu: CpuTicks }> {
  const before = cpuTicks();
  const result = await work();
  const after = cpuTicks();
  return { result, cpu: { steal: after.steal - before.steal, total: after.total - before.total } };
}

/** A measurement with the steal during it. */
export async function measured(work: () => Promise<Measurement>): Promise<Measurement> {
  const { result, cpu } = await withCpu(work);
  return { ...result, cpu };
}

/** Percent of the CPU time the host took, or NaN where it is not known. */
export function stealPercent(cpu: CpuTicks | undefined): number {
  return cpu && cpu.total > 0 ? (100 * cpu.steal) / cpu.total : NaN;
}

export function addCpu(a: CpuTicks | undefined, b: CpuTicks | undefined): CpuTicks {
  return { steal: (a?.steal ?? 0) + (b?.steal ?? 0), total: (a?.total ?? 0) + (b?.total ?? 0) };
}

/** Above this share of stolen CPU, the bench warns that its figures say more about the host than the code. */
const NOTABLE_STEAL_PERCENT = 5;

export function warnAboutSteal(what: string, cpus: (CpuTicks | undefined)[]): void {
  const worst = Math.max(...cpus.map(stealPercent).filter((percent) => !Number.isNaN(percent)));
  if (worst > NOTABLE_STEAL_PERCENT) {
    console.log(`note: the host took up to ${worst.toFixed(0)}% of this machine's CPU during ${what}; compare runs with little steal`);
  }
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
    cpu: measurements.reduce<CpuTicks | undefined>((sum, m) => addCpu(sum, m.cpu), undefined),
  };
}

export function summarize(m: Measurement) {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b);
  return {
    name: m.name,
    perSecond: m.operations / m.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    steal: stealPercent(m.cpu),
  };
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
export async function timedLoops(
  name: string,
  workers: number,
  seconds: number,
  work: (worker: number, timed: Timed) => Promise<void>,
): Promise<Measurement> {
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

/**
 * Starts `work` at a steady `perSecond` for `seconds`, whether the runs before it have finished or
 * not, and times each run from when it was due: a slow reply delays no later start, so the queue it
 * makes shows in the latencies of the runs after it (no coordinated omission).
 */
export async function pacedRuns(
  name: string,
  perSecond: number,
  seconds: number,
  work: (timed: Timed) => Promise<void>,
): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const runs: Promise<void>[] = [];
  const started = performance.now();
  for (let run = 0; run < Math.round(perSecond * seconds); run++) {
    const due = started + (run * 1000) / perSecond;
    const early = due - performance.now();
    if (early >= 1) await sleep(early);
    const timed: Timed = async (operation) => {
      const result = await operation();
      latenciesMs.push(performance.now() - due);
      return result;
    };
    runs.push(work(timed));
  }
  await Promise.all(runs);
  return { name, operations: latenciesMs.length, seconds: (performance.now() - started) / 1000, latenciesMs };
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Starts a built app of this repository as its own process and waits until it says it is ready. */
export async function startApp(app: string, env: Record<string, string>): Promise<ChildProcess> {
  return (await startBuilt(`apps/${app}/src/main.js`, env)).child;
}

/**
 * BENCH_NODE_FLAGS: Node's flags for the services the bench starts ('' for none). By default a
 * garbage collector on the main thread alone, as the README advises for services that share a few
 * cores with other busy processes, as the bench's clients, nats-server and the services do here.
 */
export const SERVICE_NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--single-threaded-gc').split(/\s+/).filter(Boolean);

/**
 * Starts a script of dist/ as its own process and waits until its standard output or error matches
 * `ready` (" ready in ", as the services print, unless told): the match tells what it printed, such as its address.
 */
export async function startBuilt(
  script: string,
  env: Record<string, string>,
  ready: RegExp = / ready in /,
  nodeFlags: readonly string[] = SERVICE_NODE_FLAGS,
): Promise<{ child: ChildProcess; ready: RegExpMatchArray }> {
  // BENCH_PROFILE_DIR: write a CPU profile of the app there, to see where its time goes.
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...nodeFlags, ...profile, path.join(root, 'dist', script)], {
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(process.stderr, { end: false });
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const found = buffered.match(ready);
      if (!found) return;
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      resolve(found);
    };
    const onExit = (code: number | null) => reject(new Error(`${script} exited with ${code} before it was ready`));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout!.resume();
  return { child, ready: match };
}

/** A process's peak resident memory so far (VmHWM of /proc/<pid>/status), in bytes; NaN where it is not known. */
export function peakRssBytes(pid: number | undefined): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('VmHWM:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A request whose reply may be an error: the reply as it is. */
export async function ask(nc: NatsConnection, subject: string, body: unknown, timeout = 10_000): Promise<any> {
  return (await nc.request(subject, JSON.stringify(body), { timeout })).json<any>();
}

/** The service as processes of its own, the write side then the read side (which reads the stream the write side makes). */
export async function startServices(env: Record<string, string>): Promise<{ stop(): Promise<void> }> {
  const commands = await startApp('command-service', env);
  const queries = await startApp('query-service', env).catch(async (error) => {
    await stopApp(commands);
    throw error;
  });
  return { stop: () => Promise.all([stopApp(queries), stopApp(commands)]).then(() => undefined) };
}

export function stopApp(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function request(nc: NatsConnection, subject: string, body: unknown): Promise<any> {
  const reply = await ask(nc, subject, body);
  if (!reply.ok) throw new Error(`${subject}: ${JSON.stringify(reply.error)}`);
  return reply;
}

/** Clock ticks a second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds used so far by the processes that share the machine's cores: the bench, the apps it
 * started (named by their dist path), the NATS server(s) and PostgreSQL's processes. Empty where
 * there is no /proc.
 */
export function cpuSeconds(): Map<string, number> {
  const used = new Map<string, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return used;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      // After the command: state, ppid, ... utime and stime are the 12th and 13th fields.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let name: string | undefined;
      if (Number(pid) === process.pid) name = 'bench';
      else if (command === 'nats-server' || command === 'postgres') name = command;
      else if (Number(fields[1]) === process.pid) {
        const script = readFileSync(`/proc/${pid}/cmdline`, 'utf8').match(/dist\/apps\/([^/]+)\//);
        name = script?.[1];
      }
      if (name === undefined) continue;
      // PostgreSQL's also counts its connections that ended meanwhile (cutime and cstime: the time of children waited for).
      const ended = name === 'postgres' ? Number(fields[13]) + Number(fields[14]) : 0;
      used.set(name, (used.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12]) + ended) / TICKS_PER_SECOND);
    } catch {
      // The process ended meanwhile.
    }
  }
  return used;
}

/** `work`, and the CPU seconds each process used meanwhile. */
export async function withProcessCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpu: Map<string, number> }> {
  const before = cpuSeconds();
  const result = await work();
  const cpu = new Map([...cpuSeconds()].map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)]));
  return { result, cpu };
}

/** CPU used a second of `seconds`, process by process. */
export function describeCpu(cpu: Map<string, number>, seconds: number): string {
  return [...cpu]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, used]) => `${name} ${(used / seconds).toFixed(2)}`)
    .join(', ');
}
