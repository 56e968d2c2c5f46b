import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ErrorMessage } from '../components/Messages.js';
import { ApiError, api, type User } from '../lib/api.js';

interface Props {
  notice: string | null;
  onLoggedIn: (user: User) => void;
}

/** Logs in with an API token: typed, or from the address (`?token=`), which is then taken out of it. */
export function LoginPage({ notice, onLoggedIn }: Props) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tried = useRef(false);

  const logIn = async (value: string) => {
    setBusy(true);
    setError(null);
    try {
      const { user } = await api<{ user: User }>('/session', { method: 'POST', body: { token: value } });
      onLoggedIn(user);
    } catch (caught) {
      const code = caught instanceof ApiError ? caught.error.code : '';
      setError(code === 'UNAUTHENTICATED' ? 'This token is not valid. Check it and try again.' : (caught as Error).message);
      setBusy(false);
    }
  };

  useEffect(() => {
    if (tried.current) return;
    tried.current = true;
    const params = new URLSearchParams(window.location.search);
    const fromAddress = params.get('token');
    if (!fromAddress) return;
    // The token must not stay in the address bar, the history or a shared link.
    params.delete('token');
    const rest = params.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}`);
    void logIn(fromAddress);
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) void logIn(token.trim());
  };

  return (
    <main id="main" className="login">
      <h1>Import/export jobs</h1>
      <form onSubmit={submit} aria-describedby="login-help">
        <h2>Log in</h2>
        <p id="login-help">Enter your API token. The console keeps you logged in with a session cookie until you log out.</p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(event) => setToken(event.target.value)}
          required
        />
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
