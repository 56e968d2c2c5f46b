import { JOB_STATUS_LABELS, type JobEvent } from '#contracts';

/** What an event of a job's history did, in a line. */
export function describeEvent(event: JobEvent): string {
  switch (event.type) {
    case 'Created':
      return `Created "${event.data.label}", an ${event.data.kind} job${limitWords(event.data.rejectPolicy.maxRejects)}`;
    case 'DefinitionUpdated':
      return `Changed ${Object.keys(event.data).join(', ') || 'nothing'}`;
    case 'Started':
      return `Started (was "${statusLabel(event.data.previousStatus)}")`;
    case 'Claimed':
      return `Claimed by executor ${event.data.executor}`;
    case 'PauseRequested':
      return 'Pause requested';
    case 'Paused':
      return 'Paused';
    case 'CancellationRequested':
      return 'Cancellation requested';
    case 'Cancelled':
      return `Cancelled (was "${statusLabel(event.data.previousStatus)}")`;
    case 'Finished':
      return event.data.processed === undefined ? 'Finished' : `Finished, ${event.data.processed} processed`;
    case 'Errored':
      return `Failed: ${event.data.error.message}${event.data.error.code ? ` (${event.data.error.code})` : ''}`;
    case 'ServerShutdown':
      return `Server shutdown${event.data.reason ? `: ${event.data.reason}` : ''}`;
    case 'ProgressReported':
      return `Progress: ${event.data.processed}${event.data.total === undefined ? '' : ` of ${event.data.total}`} processed`;
    case 'MessageLogged':
      return `Logged (${event.data.level}): ${event.data.message}`;
    case 'RecordsRejected': {
      const count = event.data.records.length;
      return `Rejected ${count} record${count === 1 ? '' : 's'} (${event.data.rejectedTotal} in all)`;
    }
  }
}

const statusLabel = (status: keyof typeof JOB_STATUS_LABELS) => JOB_STATUS_LABELS[status];

function limitWords(maxRejects: number | null): string {
  return maxRejects === null ? ', no reject limit' : `, stops after ${maxRejects} rejects`;
}
