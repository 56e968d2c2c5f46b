/** Nest injection tokens of the HTTP side. */
export const JOBS_CLIENT = Symbol('JOBS_CLIENT');
export const USERS_FILE = Symbol('USERS_FILE');
export const SESSIONS = Symbol('SESSIONS');
export const HTTP_API_CONFIG = Symbol('HTTP_API_CONFIG');
export const JOB_SUMMARIES = Symbol('JOB_SUMMARIES');
export const LIVE_JOB_EVENTS = Symbol('LIVE_JOB_EVENTS');

/** The console's session cookie. */
export const SESSION_COOKIE = 'jobs_session';
