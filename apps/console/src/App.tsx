import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type User, whenSessionEnds } from './lib/api.js';
import { creatableKinds, describeRights } from './lib/commands.js';
import { followLink, routeOf, useLocation } from './lib/router.js';
import { JobListPage } from './pages/JobListPage.js';
import { JobPage } from './pages/JobPage.js';
import { LoginPage } from './pages/LoginPage.js';
import { NewJobPage } from './pages/NewJobPage.js';

type Session = { state: 'checking' } | { state: 'out'; notice: string | null } | { state: 'in'; user: User };

/** The session, the header and the page the address names. */
export function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const location = useLocation();

  useEffect(() => {
    let current = true;
    whenSessionEnds(() => setSession({ state: 'out', notice: 'Your session has ended. Log in again to go on.' }));
    api<{ user: User }>('/session')
      .then(({ user }) => current && setSession({ state: 'in', user }))
      .catch(() => current && setSession({ state: 'out', notice: null }));
    return () => {
      current = false;
    };
  }, []);

  // A new page takes the focus to its content, as a page load would; and names itself in the title (a job's page names the job).
  const shown = useRef<string | null>(null);
  const signedIn = session.state === 'in';
  useEffect(() => {
    if (!signedIn) return;
    const page = routeOf(location.pathname).page;
    if (page !== 'job') document.title = page === 'new-job' ? 'New job — Import/export jobs' : 'Import/export jobs';
    if (shown.current !== null && shown.current !== location.pathname) document.getElementById('main')?.focus();
    shown.current = location.pathname;
  }, [location.pathname, signedIn]);

  const logOut = useCallback(async () => {
    await api('/session', { method: 'DELETE' }).catch(() => undefined);
    setSession({ state: 'out', notice: 'You are logged out.' });
  }, []);

  if (session.state === 'checking') return <p className="checking">Loading the console…</p>;
  if (session.state === 'out') return <LoginPage notice={session.notice} onLoggedIn={(user) => setSession({ state: 'in', user })} />;

  const route = routeOf(location.pathname);
  const { user } = session;
  const mayCreate = creatableKinds(user.rights).length > 0;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to the page
      </a>
      <header className="app-header">
        <nav aria-label="Console">
          <a href="/" className="brand" onClick={followLink}>
            Import/export jobs
          </a>
          <a href="/" onClick={followLink} aria-current={route.page === 'jobs' ? 'page' : undefined}>
            Jobs
          </a>
          {mayCreate && (
            <a href="/jobs/new" onClick={followLink} aria-current={route.page === 'new-job' ? 'page' : undefined}>
              New job
            </a>
          )}
        </nav>
        <div className="user">
          <span>
            Logged in as <strong>{user.name}</strong> <span className="rights">({describeRights(user.rights)})</span>
          </span>
          <button type="button" onClick={logOut}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'jobs' && <JobListPage search={location.search} mayCreate={mayCreate} />}
        {route.page === 'new-job' && <NewJobPage user={user} />}
        {route.page === 'job' && <JobPage key={route.jobId} jobId={route.jobId} user={user} search={location.search} />}
        {route.page === 'not-found' && (
          <>
            <h1>No such page</h1>
            <p>
              <a href="/" onClick={followLink}>
                Go to the list of import/export jobs
              </a>
            </p>
          </>
        )}
      </main>
    </>
  );
}
