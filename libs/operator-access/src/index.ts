export {
  authorize,
  isOperatorCommand,
  RIGHTS,
  type AccessDecision,
  type AccessRequest,
  type Operator,
  type Right,
} from './access-rules.js';
export { DEFAULT_SESSION_TTL_MS, sessionsFor, type Sessions, type SessionsOptions } from './sessions.js';
export { hashToken, newToken, TOKEN_PREFIX } from './tokens.js';
export { UsersFileError } from './users-file-content.js';
export { UsersFile, type UsersFileOptions } from './users-file.js';
