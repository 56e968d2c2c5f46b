import { JOB_STATUS_LABELS, REJECT_LIMIT_ERROR_CODE, type JobStatus, type LogLevel, type UnpositionedJobEvent } from '#contracts';
import type { JobState } from '#domain';

/** A job's log entry as its event words it. */
export interface LogLine {
  level: LogLevel;
  message: string;
}

/** A job as the read models show it: its Created event is applied. */
export type ShownJobState = JobState & { status: JobStatus };

export function isShown(state: JobState): state is ShownJobState {
  return state.status !== null;
}

/**
 * The log entry an event writes, given the job's state after it: every change of status says who
 * did what and what it led to.
 */
export function logLine(event: UnpositionedJobEvent, state: ShownJobState): LogLine | null {
  const now = JOB_STATUS_LABELS[state.status];
  const by = event.actor;
  switch (event.type) {
    case 'Created':
      return info(`${event.data.kind === 'import' ? 'Import' : 'Export'} job created by ${by}: ${now}`);
    case 'DefinitionUpdated':
      return info(`Job updated by ${by} (${Object.keys(event.data).join(', ')}): ${now}`);
    case 'Started':
      return info(
        event.data.previousStatus === 'editing'
          ? `Job started by ${by}: ${now}`
          : `Job restarted by ${by} after ${JOB_STATUS_LABELS[event.data.previousStatus]}: ${now}`,
      );
    case 'Claimed': {
      const { executor, leaseMs } = event.data;
      return info(`Claimed by executor ${executor} (lease ${leaseSeconds(leaseMs)} s)${by === executor ? '' : `, sent by ${by}`}: ${now}`);
    }
    case 'PauseRequested':
      return info(`Pause requested by ${by}: ${now}`);
    case 'Paused':
      return info(`Pause confirmed by ${by}: ${now}`);
    case 'CancellationRequested':
      return info(`Cancellation requested by ${by}: ${now}`);
    case 'Cancelled':
      return info(
        event.data.previousStatus === 'cancelling' ? `Cancellation confirmed by ${by}: ${now}` : `Job cancelled by ${by}: ${now}`,
      );
    case 'Finished':
      return info(`Job finished, reported by ${by} (${processedCount(state)}): ${now}`);
    case 'Errored': {
      const { message, code } = event.data.error;
      return {
        level: 'error',
        message:
          code === REJECT_LIMIT_ERROR_CODE
            ? `Job stopped by the rejects policy on records rejected by ${by} (${message}): ${now}`
            : `Job failed, reported by ${by} (${code === undefined ? message : `${code}: ${message}`}): ${now}`,
      };
    }
    case 'ServerShutdown':
      return {
        level: 'warning',
        message: `Server shutdown reported by ${by}${event.data.reason === undefined ? '' : ` (${event.data.reason})`}: ${now}`,
      };
    case 'MessageLogged':
      return { level: event.data.level, message: event.data.message };
    case 'RecordsRejected': {
      const { records, rejectedTotal } = event.data;
      return {
        level: 'warning',
        message: `${records.length} ${records.length === 1 ? 'record' : 'records'} rejected, reported by ${by} (${rejectedTotal} in total)`,
      };
    }
    case 'ProgressReported':
      // Progress is reported many times a second on a large job: the job list shows it, a log line would flood the log.
      return null;
    default:
      // An event type from a newer schema: the job's version counts it, its log line is for a newer reader.
      return null;
  }
}

function processedCount({ processed, total }: JobState): string {
  return total === null ? `${processed} records processed` : `${processed} of ${total} records processed`;
}

function leaseSeconds(leaseMs: number): string {
  return (leaseMs / 1000).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function info(message: string): LogLine {
  return { level: 'info', message };
}
