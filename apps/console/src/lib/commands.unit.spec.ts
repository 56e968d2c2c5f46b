import { describe, expect, it } from 'vitest';
import { JOB_STATUS_LABELS, JOB_STATUSES, type JobStatus } from '#contracts';
import { commandAvailability, creatableKinds, mayChange } from './commands.js';

const job = (status: JobStatus, kind: 'import' | 'export' = 'import') => ({ status, statusLabel: JOB_STATUS_LABELS[status], kind });
const enabledIn = (command: 'start' | 'pause' | 'cancel', rights: string[]) =>
  JOB_STATUSES.filter((status) => commandAvailability(command, job(status), rights).enabled);

describe('which buttons a job page enables', () => {
  it('enables each command exactly in the statuses that take it, for an admin', () => {
    expect(enabledIn('start', ['admin'])).toEqual(['editing', 'paused', 'server_shutdown']);
    expect(enabledIn('pause', ['admin'])).toEqual(['running']);
    expect(enabledIn('cancel', ['admin'])).toEqual(['editing', 'running', 'pausing', 'paused', 'server_shutdown']);
  });

  it('says which status keeps a command from the job', () => {
    expect(commandAvailability('start', job('finished'), ['import'])).toEqual({
      enabled: false,
      reason: 'A job in "Finished" cannot be started.',
    });
  });

  it('enables nothing for a user without the right for the kind, and says which right it takes', () => {
    expect(enabledIn('cancel', ['read'])).toEqual([]);
    expect(enabledIn('start', ['export'])).toEqual([]);
    expect(commandAvailability('pause', job('running', 'export'), ['read', 'import']).reason).toBe(
      'You may not change export jobs: that takes the export or admin right, and you have the rights read, import.',
    );
  });

  it('lets import and export rights change their own kind only', () => {
    expect(mayChange('import', ['import'])).toBe(true);
    expect(mayChange('export', ['import'])).toBe(false);
    expect(creatableKinds(['export'])).toEqual(['export']);
    expect(creatableKinds(['admin'])).toEqual(['import', 'export']);
    expect(creatableKinds(['read'])).toEqual([]);
  });
});
