import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, type CommandName } from '#contracts';
import { type AccessRequest, authorize, type Operator } from './access-rules.js';

const alice: Operator = { name: 'alice', rights: ['read', 'import'] };
const viewer: Operator = { name: 'victor', rights: ['read'] };
const exporter: Operator = { name: 'erin', rights: ['export'] };
const admin: Operator = { name: 'root', rights: ['admin'] };

const OPERATOR_COMMANDS: CommandName[] = ['create', 'update', 'start', 'pause', 'cancel', 'log'];
const EXECUTOR_COMMANDS = COMMAND_NAMES.filter((command) => !OPERATOR_COMMANDS.includes(command));

const command = (name: CommandName, kind: 'import' | 'export' | null): AccessRequest => ({ type: 'command', command: name, kind });

describe('reads', () => {
  it('are allowed with read, import, export or admin: running jobs of a kind implies seeing them', () => {
    for (const operator of [alice, viewer, exporter, admin]) expect(authorize(operator, { type: 'read' })).toEqual({ ok: true });
  });
});

describe("an operator's commands", () => {
  it('are allowed on jobs of the kinds the operator holds the right of, and refused on the others', () => {
    for (const name of OPERATOR_COMMANDS) {
      expect(authorize(alice, command(name, 'import'))).toEqual({ ok: true });
      expect(authorize(alice, command(name, 'export')).ok).toBe(false);
      expect(authorize(exporter, command(name, 'export'))).toEqual({ ok: true });
      expect(authorize(exporter, command(name, 'import')).ok).toBe(false);
    }
  });

  it('are refused to a reader', () => {
    for (const name of OPERATOR_COMMANDS) {
      expect(authorize(viewer, command(name, 'import')).ok).toBe(false);
      expect(authorize(viewer, command(name, null)).ok).toBe(false);
    }
  });

  it('on a job that does not exist (kind null) need import or export, so that the service answers JOB_NOT_FOUND', () => {
    expect(authorize(alice, command('start', null))).toEqual({ ok: true });
    expect(authorize(exporter, command('cancel', null))).toEqual({ ok: true });
  });

  it('are refused in words that say who, what, the rights held and what to do', () => {
    expect(authorize(alice, command('start', 'export'))).toEqual({
      ok: false,
      error: {
        code: 'FORBIDDEN',
        message: 'alice may not start export jobs: alice has the rights read, import; an admin can grant export in the users file',
      },
    });
    expect(authorize(viewer, command('log', null))).toEqual({
      ok: false,
      error: {
        code: 'FORBIDDEN',
        message:
          'victor may not add log entries to jobs: victor has the rights read; an admin can grant import or export in the users file',
      },
    });
  });
});

describe("an executor's commands", () => {
  it('are the commands of the contract other than create, update, start, pause, cancel and log', () => {
    expect(EXECUTOR_COMMANDS).toEqual(
      expect.arrayContaining(['claim', 'progress', 'reject', 'finish', 'fail', 'mark-paused', 'mark-cancelled', 'shutdown']),
    );
  });

  it('need admin, whatever the kind rights', () => {
    const both: Operator = { name: 'bob', rights: ['read', 'import', 'export'] };
    for (const name of EXECUTOR_COMMANDS) {
      for (const kind of ['import', 'export', null] as const) {
        expect(authorize(both, command(name, kind)).ok).toBe(false);
        expect(authorize(admin, command(name, kind))).toEqual({ ok: true });
      }
    }
    expect(authorize(both, command('finish', 'import'))).toMatchObject({
      error: {
        message:
          'bob may not send the executor command finish: bob has the rights read, import, export; an admin can grant admin in the users file',
      },
    });
  });
});

describe('admin requests', () => {
  it('need admin, and a refusal names the action', () => {
    expect(authorize(admin, { type: 'admin', action: 'rebuild the read models' })).toEqual({ ok: true });
    expect(authorize(alice, { type: 'admin', action: 'rebuild the read models' })).toEqual({
      ok: false,
      error: {
        code: 'FORBIDDEN',
        message: 'alice may not rebuild the read models: alice has the rights read, import; an admin can grant admin in the users file',
      },
    });
    expect(authorize(exporter, { type: 'admin' })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/^erin may not send admin requests/) },
    });
  });

  it('an operator without rights (an empty list, which the users file refuses) may do nothing', () => {
    const nobody: Operator = { name: 'nobody', rights: [] };
    expect(authorize(nobody, { type: 'read' })).toMatchObject({
      ok: false,
      error: { message: 'nobody may not read jobs: nobody has no rights; an admin can grant read in the users file' },
    });
  });
});
