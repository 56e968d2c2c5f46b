import type { CommandOkReply, HistoryReply, JobSummary } from '#contracts';
import { useEffect, useId, useState } from 'react';
import { ErrorMessage } from '../components/Messages.js';
import { api, idempotencyKey, type User } from '../lib/api.js';
import { mayChange } from '../lib/commands.js';
import { checkDefinition } from '../lib/definition.js';

interface Props {
  job: JobSummary;
  user: User;
  onSaved: (position: number) => Promise<void>;
}

/** The job's definition as JSON, editable while the job is in editing; a save names the version it changes (If-Match). */
export function DefinitionTab({ job, user, onSaved }: Props) {
  const [text, setText] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const [saving, setSaving] = useState(false);
  const help = useId();
  const path = `/jobs/${encodeURIComponent(job.jobId)}`;

  const load = async () => {
    const reply = await api<HistoryReply>(`${path}/history`, { query: new URLSearchParams({ limit: '1' }) });
    setText(JSON.stringify(reply.state?.definition ?? {}, null, 2));
    setVersion(reply.state?.version ?? 0);
  };
  // Read once per job; a save or a reload reads again.
  useEffect(() => {
    load().catch((caught: Error) => setError(caught.message));
  }, [job.jobId]);

  const editable = job.status === 'editing' && mayChange(job.kind, user.rights);
  const why =
    job.status !== 'editing'
      ? `The definition can be changed only while the job is in "Editing in progress"; it is in "${job.statusLabel}".`
      : editable
        ? 'Edit the JSON and save. Saving fails if someone changed the job since you loaded it.'
        : `You may not change ${job.kind} jobs.`;
  const check = text === null ? null : checkDefinition(text);

  const save = async () => {
    if (!check?.ok) return;
    setSaving(true);
    setError(null);
    setNotice('');
    try {
      const reply = await api<CommandOkReply>(path, {
        method: 'PATCH',
        body: { definition: check.definition },
        headers: { 'If-Match': `"${version}"`, 'Idempotency-Key': idempotencyKey() },
      });
      setVersion(reply.version);
      setNotice(`Saved as version ${reply.version}.`);
      await onSaved(reply.position);
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setSaving(false);
    }
  };

  if (text === null) return error ? <ErrorMessage error={error} /> : <p>Loading the definition…</p>;
  return (
    <form
      className="definition"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <label htmlFor="definition">Definition (JSON), as of version {version}</label>
      <p id={help} className="help">
        {why}
      </p>
      <textarea
        id="definition"
        value={text}
        readOnly={!editable}
        spellCheck={false}
        rows={14}
        aria-describedby={`${help} definition-check`}
        aria-invalid={check?.ok === false}
        onChange={(event) => setText(event.target.value)}
      />
      <p id="definition-check" className={check?.ok ? 'help' : 'field-error'} aria-live="polite">
        {check && !check.ok ? check.message : ''}
      </p>
      <ErrorMessage error={error} />
      <p className="notice" role="status">
        {notice}
      </p>
      {editable && (
        <div className="form-actions">
          <button type="submit" className="primary" disabled={saving || !check?.ok}>
            {saving ? 'Saving…' : 'Save the definition'}
          </button>
          <button type="button" onClick={() => load().catch((caught: Error) => setError(caught.message))}>
            Load the current definition
          </button>
        </div>
      )}
    </form>
  );
}
