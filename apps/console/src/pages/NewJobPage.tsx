import { type CommandOkReply, DEFAULT_MAX_REJECTS, type JobKind } from '#contracts';
import { type FormEvent, useRef, useState } from 'react';
import { ErrorMessage } from '../components/Messages.js';
import { api, idempotencyKey, type User } from '../lib/api.js';
import { creatableKinds, describeRights } from '../lib/commands.js';
import { checkDefinition, checkRejectLimit } from '../lib/definition.js';
import { followLink, navigate } from '../lib/router.js';

/** Creates a job: label, kind, definition as JSON (checked as it is typed) and reject limit; then opens its page. */
export function NewJobPage({ user }: { user: User }) {
  const kinds = creatableKinds(user.rights);
  const [label, setLabel] = useState('');
  const [kind, setKind] = useState<JobKind>(kinds[0] ?? 'import');
  const [definition, setDefinition] = useState('{\n  \n}');
  const [rejectLimit, setRejectLimit] = useState(String(DEFAULT_MAX_REJECTS));
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  // One key for this form: sending it again after a lost reply creates the job once.
  const key = useRef(idempotencyKey());
  const definitionCheck = checkDefinition(definition);
  const limitCheck = checkRejectLimit(rejectLimit);

  if (kinds.length === 0) {
    return (
      <>
        <h1>New job</h1>
        <p>
          Creating a job takes the import, export or admin right; you have {describeRights(user.rights)}.{' '}
          <a href="/" onClick={followLink}>
            Back to the jobs
          </a>
        </p>
      </>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!definitionCheck.ok || !limitCheck.ok || !label.trim()) return;
    setSending(true);
    setError(null);
    try {
      const reply = await api<CommandOkReply>('/jobs', {
        method: 'POST',
        body: { label: label.trim(), kind, definition: definitionCheck.definition, rejectPolicy: { maxRejects: limitCheck.maxRejects } },
        headers: { 'Idempotency-Key': key.current },
      });
      navigate(`/jobs/${encodeURIComponent(reply.jobId)}`);
    } catch (caught) {
      setError((caught as Error).message);
      setSending(false);
    }
  };

  return (
    <>
      <h1>New job</h1>
      <form className="new-job" onSubmit={submit} noValidate>
        <label htmlFor="label">Label</label>
        <input id="label" value={label} maxLength={500} required onChange={(event) => setLabel(event.target.value)} />

        <fieldset>
          <legend>Kind</legend>
          {kinds.map((value) => (
            <label key={value} className="radio">
              <input type="radio" name="kind" value={value} checked={kind === value} onChange={() => setKind(value)} /> {value}
            </label>
          ))}
        </fieldset>

        <label htmlFor="definition">Definition (JSON)</label>
        <textarea
          id="definition"
          rows={10}
          spellCheck={false}
          value={definition}
          aria-invalid={!definitionCheck.ok}
          aria-describedby="definition-check"
          onChange={(event) => setDefinition(event.target.value)}
        />
        <p id="definition-check" className={definitionCheck.ok ? 'help' : 'field-error'} aria-live="polite">
          {definitionCheck.ok ? 'Valid JSON object.' : definitionCheck.message}
        </p>

        <label htmlFor="reject-limit">Reject limit</label>
        <input
          id="reject-limit"
          inputMode="numeric"
          value={rejectLimit}
          aria-invalid={!limitCheck.ok}
          aria-describedby="reject-limit-help"
          onChange={(event) => setRejectLimit(event.target.value)}
        />
        <p id="reject-limit-help" className={limitCheck.ok ? 'help' : 'field-error'} aria-live="polite">
          {limitCheck.ok ? 'The job stops with an error once more records than this are rejected. Empty: no limit.' : limitCheck.message}
        </p>

        <ErrorMessage error={error} />
        <div className="form-actions">
          <button type="submit" className="primary" disabled={sending || !definitionCheck.ok || !limitCheck.ok || !label.trim()}>
            {sending ? 'Creating…' : 'Create the job'}
          </button>
          <a href="/" onClick={followLink}>
            Back to the jobs
          </a>
        </div>
      </form>
    </>
  );
}
