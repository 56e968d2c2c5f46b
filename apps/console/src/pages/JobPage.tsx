import { EXECUTING_JOB_STATUSES, type GetReply, JOB_STATUS_LABELS, type JobSummary } from '#contracts';
import { useCallback, useEffect, useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { ErrorMessage, LiveIndicator } from '../components/Messages.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { StatusBadge } from '../components/StatusIcon.js';
import { Tabs } from '../components/Tabs.js';
import { ApiError, api, sendCommand, type User } from '../lib/api.js';
import { commandAvailability, OPERATOR_COMMANDS, type OperatorCommand } from '../lib/commands.js';
import { formatDuration, formatTime, jobDuration } from '../lib/format.js';
import { type JobChange, useJobChanges } from '../lib/live.js';
import { followLink, navigate } from '../lib/router.js';
import { DefinitionTab } from './DefinitionTab.js';
import { HistoryTab } from './HistoryTab.js';
import { LogTab } from './LogTab.js';
import { RejectsTab } from './RejectsTab.js';

const TABS = [
  { id: 'log', label: 'Log' },
  { id: 'rejects', label: 'Rejects' },
  { id: 'history', label: 'History' },
  { id: 'definition', label: 'Definition' },
] as const;
type TabId = (typeof TABS)[number]['id'];

const BUTTON_LABELS: Record<OperatorCommand, string> = { start: 'Start', pause: 'Pause', cancel: 'Cancel' };
const DONE_WORDS: Record<OperatorCommand, string> = { start: 'Start sent', pause: 'Pause sent', cancel: 'Cancel sent' };

interface Props {
  jobId: string;
  user: User;
  search: string;
}

/** A job's page: its execution above, with Start, Pause and Cancel; its log, rejects, history and definition below. */
export function JobPage({ jobId, user, search }: Props) {
  const [job, setJob] = useState<JobSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState<OperatorCommand | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [lastChange, setLastChange] = useState<JobChange | null>(null);
  const now = useNow(job !== null && EXECUTING_JOB_STATUSES.has(job.status));
  const tab = (TABS.find((candidate) => new URLSearchParams(search).get('tab') === candidate.id)?.id ?? 'log') as TabId;

  /** Shows the job as the read model has it at `minPosition` or later; an older summary than the one shown changes nothing. */
  const load = useCallback(
    async (minPosition?: number) => {
      const query = minPosition === undefined ? undefined : new URLSearchParams({ minPosition: String(minPosition) });
      const reply = await api<GetReply>(`/jobs/${encodeURIComponent(jobId)}`, { query });
      setJob((shown) => (shown && shown.version > reply.job.version ? shown : reply.job));
    },
    [jobId],
  );

  useEffect(() => {
    load().catch((caught: Error) => setError(caught.message));
  }, [load]);

  const live = useJobChanges(jobId, (change) => {
    setJob((shown) => (shown && shown.version > change.job.version ? shown : change.job));
    setLastChange(change);
  });

  useEffect(() => {
    if (job) document.title = `${job.label}: ${job.statusLabel} — Import/export jobs`;
  }, [job]);

  const run = async (command: OperatorCommand) => {
    setConfirming(false);
    setBusy(command);
    setError(null);
    setNotice('');
    try {
      const reply = await sendCommand(jobId, command);
      await load(reply.position);
      // Past tense: the status moves on live, and the notice stays true once it has.
      setNotice(`${DONE_WORDS[command]}: the job went to "${JOB_STATUS_LABELS[reply.status]}".`);
    } catch (caught) {
      setError((caught as Error).message);
      // A refused command (the job moved on, or was changed) shows the job as it is now.
      if (caught instanceof ApiError && caught.error.httpStatus === 409) await load().catch(() => undefined);
    } finally {
      setBusy(null);
    }
  };

  if (!job) {
    return (
      <>
        <h1>Job {jobId}</h1>
        <ErrorMessage error={error} />
        {!error && <p>Loading the job…</p>}
      </>
    );
  }

  const duration = jobDuration(job, now);
  return (
    <>
      <p className="breadcrumb">
        <a href="/" onClick={followLink}>
          Import/export jobs
        </a>{' '}
        / {job.jobId}
      </p>
      <h1>{job.label}</h1>
      <LiveIndicator state={live} />
      <section className="execution" aria-labelledby="execution-title">
        <h2 id="execution-title" className="visually-hidden">
          Execution
        </h2>
        <div className="execution-status" aria-live="polite" aria-atomic="true">
          <StatusBadge status={job.status} />
          {job.status === 'running' && job.executor === null && <span className="note">waiting for an executor</span>}
        </div>
        <ProgressBar job={job} withCounts />
        <dl className="facts">
          <div>
            <dt>Kind</dt>
            <dd>{job.kind}</dd>
          </div>
          <div>
            <dt>Rejected</dt>
            <dd data-testid="rejected">{job.rejected.toLocaleString('en-US')}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <time dateTime={job.createdAt}>{formatTime(job.createdAt)}</time> by {job.createdBy}
            </dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{job.startedAt ? <time dateTime={job.startedAt}>{formatTime(job.startedAt)}</time> : 'Not yet'}</dd>
          </div>
          <div>
            <dt>Ended</dt>
            <dd>{job.endedAt ? <time dateTime={job.endedAt}>{formatTime(job.endedAt)}</time> : 'Not yet'}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{duration === null ? '—' : formatDuration(duration)}</dd>
          </div>
          <div>
            <dt>Executor</dt>
            <dd>{job.executor ?? 'None'}</dd>
          </div>
          <div className="wide">
            <dt>Last error</dt>
            <dd className={job.lastError ? 'last-error' : undefined}>
              {job.lastError ? `${job.lastError.message}${job.lastError.code ? ` (${job.lastError.code})` : ''}` : 'None'}
            </dd>
          </div>
        </dl>
        <div className="commands">
          {OPERATOR_COMMANDS.map((command) => {
            const availability = commandAvailability(command, job, user.rights);
            const why = `why-${command}`;
            return (
              <span className="command" key={command}>
                <button
                  type="button"
                  className={command === 'cancel' ? 'danger' : 'primary'}
                  aria-disabled={!availability.enabled || busy !== null}
                  aria-describedby={availability.reason ? why : undefined}
                  title={availability.reason ?? undefined}
                  onClick={() => {
                    if (!availability.enabled || busy) return;
                    if (command === 'cancel') setConfirming(true);
                    else void run(command);
                  }}
                >
                  {busy === command ? `${BUTTON_LABELS[command]}…` : BUTTON_LABELS[command]}
                </button>
                {availability.reason && (
                  <span className="why" id={why}>
                    {availability.reason}
                  </span>
                )}
              </span>
            );
          })}
        </div>
        <p className="notice" role="status">
          {notice}
        </p>
        <ErrorMessage error={error} />
      </section>
      <ConfirmDialog
        open={confirming}
        title="Cancel this job?"
        message={`"${job.label}" will stop and cannot be started again. Records processed so far stay processed.`}
        confirmLabel="Cancel the job"
        cancelLabel="Keep the job"
        onConfirm={() => void run('cancel')}
        onClose={() => setConfirming(false)}
      />
      <Tabs
        label="Job details"
        tabs={TABS}
        selected={tab}
        onSelect={(id) => navigate(`/jobs/${encodeURIComponent(jobId)}${id === 'log' ? '' : `?tab=${id}`}`, { replace: true })}
      >
        {tab === 'log' && <LogTab jobId={jobId} lastChange={lastChange} />}
        {tab === 'rejects' && <RejectsTab jobId={jobId} lastChange={lastChange} />}
        {tab === 'history' && <HistoryTab jobId={jobId} lastChange={lastChange} />}
        {tab === 'definition' && <DefinitionTab job={job} user={user} onSaved={(position) => load(position)} />}
      </Tabs>
    </>
  );
}

/** The time, every second while `ticking`: an executing job's duration grows on the page. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [ticking]);
  return now;
}
