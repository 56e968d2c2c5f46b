import { type MouseEvent, useSyncExternalStore } from 'react';

/** The console's own routes: history API navigation without a router library. */
export type Route = { page: 'jobs' } | { page: 'new-job' } | { page: 'job'; jobId: string } | { page: 'not-found' };

export function routeOf(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'jobs' };
  if (pathname === '/jobs/new') return { page: 'new-job' };
  const job = /^\/jobs\/([^/]+)$/.exec(pathname);
  if (job) return { page: 'job', jobId: decodeURIComponent(job[1]!) };
  return { page: 'not-found' };
}

const NAVIGATED = 'console:navigated';

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** The address the console shows, as `path?query`; changes re-render. */
export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const at = href.indexOf('?');
  return at < 0 ? { pathname: href, search: '' } : { pathname: href.slice(0, at), search: href.slice(at) };
}

export function navigate(to: string, options: { replace?: boolean; state?: unknown } = {}): void {
  if (options.replace) window.history.replaceState(options.state ?? null, '', to);
  else window.history.pushState(options.state ?? null, '', to);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** A link's click handler that stays in the console, leaving modified clicks (new tab, ...) to the browser. */
export function followLink(event: MouseEvent<HTMLAnchorElement>): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(event.currentTarget.getAttribute('href')!);
}
