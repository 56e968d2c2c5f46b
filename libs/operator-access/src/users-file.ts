import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Operator, Right } from './access-rules.js';
import { hashToken, sameHash } from './tokens.js';
import {
  newUser,
  newUsersFile,
  parseUsersFile,
  serializeUsersFile,
  type UserEntry,
  type UsersFileContent,
  UsersFileError,
} from './users-file-content.js';

export interface UsersFileOptions {
  /** How long the users read stay in use before a request looks whether the file changed. Default 1 s. */
  checkIntervalMs?: number;
  now?: () => number;
  /**
   * Told when the changed file cannot be used (malformed, unreadable, gone): the users read before
   * stay in force until it can, so that a file caught half-written by an editor logs nobody out.
   */
  onProblem?: (error: UsersFileError) => void;
}

interface KnownUser {
  operator: Operator;
  tokenHash: Buffer;
  /** Names the user's token in a session without revealing its hash: a new token ends the old sessions. */
  tokenFingerprint: string;
}

interface Snapshot {
  users: KnownUser[];
  byName: Map<string, KnownUser>;
  sessionKey: Buffer;
  /** Tells a changed file from the one read: inode, size and times. */
  stamp: string;
}

/** What sessions need of a users file; not part of the library's API. */
export interface SessionMaterial {
  sessionKey(): Buffer;
  user(name: string): { operator: Operator; tokenFingerprint: string } | null;
}

const sessionMaterials = new WeakMap<UsersFile, SessionMaterial>();

export function sessionMaterialOf(users: UsersFile): SessionMaterial {
  return sessionMaterials.get(users)!;
}

const DEFAULT_CHECK_INTERVAL_MS = 1_000;

/**
 * The users file (JOBS_USERS_FILE): who may use the HTTP API, with a hashed token and rights each.
 * Edits to the file take effect on the running service within the check interval.
 */
export class UsersFile {
  private lastCheck: number;
  private lastProblem: string | null = null;

  private constructor(
    readonly path: string,
    private snapshot: Snapshot,
    private readonly options: UsersFileOptions,
  ) {
    this.lastCheck = this.now();
    sessionMaterials.set(this, {
      sessionKey: () => {
        this.refresh();
        return this.snapshot.sessionKey;
      },
      user: (name) => {
        this.refresh();
        const user = this.snapshot.byName.get(name);
        return user === undefined ? null : { operator: copy(user.operator), tokenFingerprint: user.tokenFingerprint };
      },
    });
  }

  /**
   * Reads the users file, or creates it (mode 0600, its folder made) with an `admin` user when it is
   * missing: then `firstAdminToken` is that user's token, which exists nowhere else. A malformed file,
   * or one that other users of the machine may read, is refused with a UsersFileError.
   */
  static async open(file: string, options: UsersFileOptions = {}): Promise<{ users: UsersFile; firstAdminToken: string | null }> {
    let firstAdminToken: string | null = null;
    let snapshot = readSnapshot(file);
    if (snapshot === null) {
      const admin = newUser('admin', ['admin'], new Date(), file);
      if (createExclusively(file, newUsersFile([admin.entry]))) firstAdminToken = admin.token;
      snapshot = readSnapshot(file);
      if (snapshot === null) throw new UsersFileError(`the users file ${file} vanished as it was made: start again`);
    }
    return { users: new UsersFile(file, snapshot, options), firstAdminToken };
  }

  /** The operator whose token this is, or null. The token is compared in constant time and never logged. */
  authenticate(token: string): Operator | null {
    this.refresh();
    const hash = Buffer.from(hashToken(token), 'hex');
    let found: KnownUser | null = null;
    // Every user is compared, so that the time taken does not tell where a match is.
    for (const user of this.snapshot.users) if (sameHash(hash, user.tokenHash)) found = user;
    return found === null ? null : copy(found.operator);
  }

  /** Adds a user with a new token, which it returns (shown once, stored only hashed); creates the file holding that user alone when missing. */
  static async addUser(file: string, name: string, rights: Right[]): Promise<string> {
    const content = readContent(file) ?? newUsersFile([]);
    if (content.users.some((user) => user.name === name)) {
      throw new UsersFileError(`the users file ${file} has a user named ${name} already: choose another name, or renew their token`);
    }
    const { entry, token } = newUser(name, rights, new Date(), file);
    replaceDurably(file, { ...content, users: [...content.users, entry] });
    return token;
  }

  /** Removes a user: their token and sessions stop working. */
  static async removeUser(file: string, name: string): Promise<void> {
    const content = existingContent(file);
    findEntry(content, name, file);
    replaceDurably(file, { ...content, users: content.users.filter((user) => user.name !== name) });
  }

  /** Gives a user a new token, which it returns: the old token and the user's sessions stop working. */
  static async renewToken(file: string, name: string): Promise<string> {
    const content = existingContent(file);
    const old = findEntry(content, name, file);
    const { entry, token } = newUser(name, old.rights, new Date(), file);
    replaceDurably(file, {
      ...content,
      users: content.users.map((user) => (user.name === name ? { ...entry, createdAt: old.createdAt } : user)),
    });
    return token;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private refresh(): void {
    const now = this.now();
    if (now - this.lastCheck < (this.options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS)) return;
    this.lastCheck = now;
    try {
      const stats = statSync(this.path, { throwIfNoEntry: false });
      if (stats !== undefined && stampOf(stats) === this.snapshot.stamp) return;
      const snapshot = readSnapshot(this.path);
      if (snapshot === null)
        throw new UsersFileError(`the users file ${this.path} is gone: the users read before stay in force until it is back`);
      this.snapshot = snapshot;
      this.lastProblem = null;
    } catch (error) {
      const problem =
        error instanceof UsersFileError
          ? error
          : new UsersFileError(`the users file ${this.path} cannot be read: ${(error as Error).message}`);
      // Once per problem, not once per request.
      if (problem.message !== this.lastProblem) this.options.onProblem?.(problem);
      this.lastProblem = problem.message;
    }
  }
}

function copy(operator: Operator): Operator {
  return { name: operator.name, rights: [...operator.rights] };
}

function stampOf(stats: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** The file's content and stamp, read from one open file; null when it does not exist. */
function readSnapshot(file: string): Snapshot | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsersFileError(`the users file ${file} cannot be read: ${(error as Error).message}`);
  }
  try {
    const stats = fstatSync(fd);
    // The file holds the session secret, with which anyone could forge a session of any user.
    if ((stats.mode & 0o077) !== 0) {
      throw new UsersFileError(
        `the users file ${file} may be read by other users of the machine (mode ${(stats.mode & 0o777).toString(8)}); it holds the session secret: run chmod 600 ${file}`,
      );
    }
    const content = parseUsersFile(readFileSync(fd, 'utf8'), file);
    const users = content.users.map(knownUser);
    return {
      users,
      byName: new Map(users.map((user) => [user.operator.name, user])),
      sessionKey: Buffer.from(content.sessionSecret, 'base64url'),
      stamp: stampOf(stats),
    };
  } finally {
    closeSync(fd);
  }
}

function knownUser(entry: UserEntry): KnownUser {
  return {
    operator: { name: entry.name, rights: [...entry.rights] },
    tokenHash: Buffer.from(entry.tokenHash, 'hex'),
    tokenFingerprint: createHash('sha256').update(`session:${entry.tokenHash}`).digest('base64url').slice(0, 22),
  };
}

function readContent(file: string): UsersFileContent | null {
  try {
    return parseUsersFile(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function existingContent(file: string): UsersFileContent {
  const content = readContent(file);
  if (content === null)
    throw new UsersFileError(`there is no users file at ${file}: start the service once to have it made, or add a user`);
  return content;
}

function findEntry(content: UsersFileContent, name: string, file: string): UserEntry {
  const entry = content.users.find((user) => user.name === name);
  if (entry === undefined) {
    throw new UsersFileError(
      `the users file ${file} has no user named ${name}; it has ${content.users.map((user) => user.name).join(', ') || 'none'}`,
    );
  }
  return entry;
}

/** A synced file of mode 0600 next to `file`, holding `content`, for a rename or link onto it. */
function writeTemporary(file: string, content: UsersFileContent): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, serializeUsersFile(content));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temporary;
}

function syncFolder(file: string): void {
  const fd = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates `file` whole, unless it exists: false then (another instance made it first). */
export function createExclusively(file: string, content: UsersFileContent): boolean {
  const temporary = writeTemporary(file, content);
  try {
    linkSync(temporary, file);
    syncFolder(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Replaces `file` so that a crash leaves the old content or the new one, never a part. */
function replaceDurably(file: string, content: UsersFileContent): void {
  const temporary = writeTemporary(file, content);
  try {
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncFolder(file);
}
