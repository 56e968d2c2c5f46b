import type { JobKind, JobStatus } from '#contracts';

/** The commands an operator sends from a job's page. */
export type OperatorCommand = 'start' | 'pause' | 'cancel';
export const OPERATOR_COMMANDS: readonly OperatorCommand[] = ['start', 'pause', 'cancel'];

/** The source product's named rights. */
export type Right = 'read' | 'import' | 'export' | 'admin';

/** The statuses each command takes, as the job's transition table has them. */
const TAKEN_IN: Record<OperatorCommand, readonly JobStatus[]> = {
  start: ['editing', 'paused', 'server_shutdown'],
  pause: ['running'],
  cancel: ['editing', 'running', 'pausing', 'paused', 'server_shutdown'],
};

const VERB: Record<OperatorCommand, string> = { start: 'started', pause: 'paused', cancel: 'cancelled' };

/** Whether the user may change jobs of this kind: create, update, start, pause, cancel. */
export function mayChange(kind: JobKind, rights: readonly string[]): boolean {
  return rights.includes('admin') || rights.includes(kind);
}

/** The kinds of job the user may create. */
export function creatableKinds(rights: readonly string[]): JobKind[] {
  return (['import', 'export'] as const).filter((kind) => mayChange(kind, rights));
}

export interface CommandAvailability {
  enabled: boolean;
  /** Why the button is disabled, in words; null when it is enabled. */
  reason: string | null;
}

/** Whether a command's button is enabled for this job and user, and if not, why. */
export function commandAvailability(
  command: OperatorCommand,
  job: { status: JobStatus; statusLabel: string; kind: JobKind },
  rights: readonly string[],
): CommandAvailability {
  if (!mayChange(job.kind, rights)) {
    return {
      enabled: false,
      reason: `You may not change ${job.kind} jobs: that takes the ${job.kind} or admin right, and you have ${describeRights(rights)}.`,
    };
  }
  if (!TAKEN_IN[command].includes(job.status)) {
    return { enabled: false, reason: `A job in "${job.statusLabel}" cannot be ${VERB[command]}.` };
  }
  return { enabled: true, reason: null };
}

export function describeRights(rights: readonly string[]): string {
  if (rights.length === 0) return 'no rights';
  return rights.length === 1 ? `the ${rights[0]} right` : `the rights ${rights.join(', ')}`;
}
