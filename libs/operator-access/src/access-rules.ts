import type { CommandName, JobKind } from '#contracts';

/** The source product's named rights. */
export const RIGHTS = ['read', 'import', 'export', 'admin'] as const;
export type Right = (typeof RIGHTS)[number];

/** Who is logged in: a user of the users file, with the rights it holds now. */
export interface Operator {
  name: string;
  rights: Right[];
}

/**
 * What an HTTP request asks to do. `kind` is the job's kind (for `create`, the body's kind); null
 * only when the job does not exist, so that the command service answers JOB_NOT_FOUND.
 */
export type AccessRequest =
  | { type: 'read' }
  | { type: 'command'; command: CommandName; kind: JobKind | null }
  /** `action`: what the request does, in words for the refusal ("rebuild the read models"). */
  | { type: 'admin'; action?: string };

export type AccessDecision = { ok: true } | { ok: false; error: { code: 'FORBIDDEN'; message: string } };

/**
 * The commands an operator sends on jobs of a kind they hold the right of; every other command
 * (the executor's: claim, progress, reject, finish, fail, mark-paused, mark-cancelled, shutdown,
 * and any command added later) needs `admin`.
 */
const OPERATOR_COMMANDS: ReadonlyMap<CommandName, string> = new Map<CommandName, string>([
  ['create', 'create'],
  ['update', 'update'],
  ['start', 'start'],
  ['pause', 'pause'],
  ['cancel', 'cancel'],
  ['log', 'add log entries to'],
]);

export function isOperatorCommand(command: CommandName): boolean {
  return OPERATOR_COMMANDS.has(command);
}

const ALLOWED: AccessDecision = { ok: true };

/**
 * Whether `operator` may do what `request` asks. `admin` may do everything. `import` and `export`
 * imply `read`: an operator who runs jobs of a kind must see them (the console has no blind mode).
 */
export function authorize(operator: Operator, request: AccessRequest): AccessDecision {
  const rights = new Set(operator.rights);
  if (rights.has('admin')) return ALLOWED;
  switch (request.type) {
    case 'read':
      if (rights.has('read') || rights.has('import') || rights.has('export')) return ALLOWED;
      return forbidden(operator, 'read jobs', 'read');
    case 'admin':
      return forbidden(operator, request.action ?? 'send admin requests', 'admin');
    case 'command': {
      const verb = OPERATOR_COMMANDS.get(request.command);
      if (verb === undefined) {
        return forbidden(operator, `send the executor command ${request.command}`, 'admin');
      }
      if (request.kind === null) {
        if (rights.has('import') || rights.has('export')) return ALLOWED;
        return forbidden(operator, `${verb} jobs`, 'import or export');
      }
      if (rights.has(request.kind)) return ALLOWED;
      return forbidden(operator, `${verb} ${request.kind} jobs`, request.kind);
    }
  }
}

function forbidden(operator: Operator, what: string, needed: string): AccessDecision {
  const held =
    operator.rights.length === 0 ? `${operator.name} has no rights` : `${operator.name} has the rights ${operator.rights.join(', ')}`;
  return {
    ok: false,
    error: {
      code: 'FORBIDDEN',
      message: `${operator.name} may not ${what}: ${held}; an admin can grant ${needed} in the users file`,
    },
  };
}
