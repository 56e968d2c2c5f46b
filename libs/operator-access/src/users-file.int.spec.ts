import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashToken, UsersFile, UsersFileError } from '#operator-access';
import { createExclusively } from './users-file.js';
import { newUsersFile } from './users-file-content.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A users file's path in a folder of the test's own, which does not exist yet. */
function usersFilePath(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'operator-access-'));
  folders.push(folder);
  return path.join(folder, 'data', 'users.json');
}

function writeUsers(file: string, content: unknown): void {
  writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
}

/** A clock the test moves, for the users file's check interval. */
function clock() {
  let time = 1_000_000;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

describe('UsersFile.open on first start', () => {
  it('makes the file and its folder, readable by its owner alone, with an admin user whose token authenticates', async () => {
    const file = usersFilePath();
    const { users, firstAdminToken } = await UsersFile.open(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o077).toBe(0);
    expect(firstAdminToken).toMatch(/^jt_[A-Za-z0-9_-]{43}$/);
    expect(users.authenticate(firstAdminToken!)).toEqual({ name: 'admin', rights: ['admin'] });

    const content = JSON.parse(readFileSync(file, 'utf8'));
    expect(content).toEqual({
      version: 1,
      users: [{ name: 'admin', tokenHash: hashToken(firstAdminToken!), rights: ['admin'], createdAt: expect.any(String) }],
      sessionSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(readFileSync(file, 'utf8')).not.toContain(firstAdminToken!);
  });

  it('gives the token once: a later start reads the file and has none to show', async () => {
    const file = usersFilePath();
    const first = await UsersFile.open(file);
    const again = await UsersFile.open(file);
    expect(again.firstAdminToken).toBeNull();
    expect(again.users.authenticate(first.firstAdminToken!)).toEqual({ name: 'admin', rights: ['admin'] });
  });

  it('never replaces a file another instance made meanwhile: its admin token stays the one that works', async () => {
    const file = usersFilePath();
    const { firstAdminToken } = await UsersFile.open(file);
    const before = readFileSync(file, 'utf8');
    expect(createExclusively(file, newUsersFile([]))).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(path.dirname(file))).toEqual(['users.json']);
    const { users } = await UsersFile.open(file);
    expect(users.authenticate(firstAdminToken!)).toEqual({ name: 'admin', rights: ['admin'] });
  });
});

describe('authenticate', () => {
  it('refuses a wrong token, a token changed by one character, and an empty one', async () => {
    const file = usersFilePath();
    const { users, firstAdminToken } = await UsersFile.open(file);
    const last = firstAdminToken!.at(-1) === 'A' ? 'B' : 'A';
    for (const token of ['jt_wrong', `${firstAdminToken!.slice(0, -1)}${last}`, '', hashToken(firstAdminToken!)]) {
      expect(users.authenticate(token)).toBeNull();
    }
  });

  it('knows every user added, with their rights', async () => {
    const file = usersFilePath();
    await UsersFile.open(file);
    const alice = await UsersFile.addUser(file, 'alice', ['read', 'import']);
    const erin = await UsersFile.addUser(file, 'erin', ['export']);
    const { users } = await UsersFile.open(file);
    expect(users.authenticate(alice)).toEqual({ name: 'alice', rights: ['read', 'import'] });
    expect(users.authenticate(erin)).toEqual({ name: 'erin', rights: ['export'] });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("follows the file's edits after the check interval: a removed user's token stops working, a new one starts", async () => {
    const file = usersFilePath();
    const time = clock();
    const { users } = await UsersFile.open(file, { now: time.now });
    const alice = await UsersFile.addUser(file, 'alice', ['read']);
    expect(users.authenticate(alice)).toBeNull();
    time.advance(1_000);
    expect(users.authenticate(alice)).toEqual({ name: 'alice', rights: ['read'] });

    const renewed = await UsersFile.renewToken(file, 'alice');
    time.advance(1_000);
    expect(users.authenticate(alice)).toBeNull();
    expect(users.authenticate(renewed)).toEqual({ name: 'alice', rights: ['read'] });

    await UsersFile.removeUser(file, 'alice');
    time.advance(1_000);
    expect(users.authenticate(renewed)).toBeNull();
  });

  it('keeps the users read before while the edited file is malformed, says so once, and takes the file again once it is valid', async () => {
    const file = usersFilePath();
    const time = clock();
    const problems: string[] = [];
    const { users, firstAdminToken } = await UsersFile.open(file, { now: time.now, onProblem: (error) => problems.push(error.message) });
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.slice(0, 40));
    for (let i = 0; i < 3; i++) {
      time.advance(1_000);
      expect(users.authenticate(firstAdminToken!)).toEqual({ name: 'admin', rights: ['admin'] });
    }
    expect(problems).toEqual([expect.stringMatching(/^the users file .*users\.json is not JSON/)]);

    const content = JSON.parse(good);
    writeUsers(file, { ...content, users: [{ ...content.users[0], rights: ['read'] }] });
    time.advance(1_000);
    expect(users.authenticate(firstAdminToken!)).toEqual({ name: 'admin', rights: ['read'] });
  });
});

describe('a malformed users file', () => {
  async function refusal(file: string): Promise<string> {
    const error = await UsersFile.open(file).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UsersFileError);
    return (error as Error).message;
  }

  it('is refused at start with the file and the problem named, and left as it is', async () => {
    const file = usersFilePath();
    await UsersFile.open(file);
    const content = JSON.parse(readFileSync(file, 'utf8'));
    writeUsers(file, { ...content, users: [{ ...content.users[0], rights: ['admin', 'superuser'] }] });
    expect(await refusal(file)).toBe(
      `the users file ${file} is not valid: users.0.rights.1: "superuser" is not a right; use one of read, import, export, admin`,
    );
    writeFileSync(file, '{ "version": 1, ');
    expect(await refusal(file)).toMatch(new RegExp(`^the users file ${file} is not JSON`));
    expect(readFileSync(file, 'utf8')).toBe('{ "version": 1, ');
  });

  it('is refused when other users of the machine may read it, as it holds the session secret', async () => {
    const file = usersFilePath();
    await UsersFile.open(file);
    chmodSync(file, 0o644);
    expect(await refusal(file)).toBe(
      `the users file ${file} may be read by other users of the machine (mode 644); it holds the session secret: run chmod 600 ${file}`,
    );
  });
});

describe('the helpers for operators', () => {
  it('refuse a name taken, an unknown user, a bad name and an unknown right, leaving the file as it was', async () => {
    const file = usersFilePath();
    await UsersFile.open(file);
    const before = readFileSync(file, 'utf8');
    await expect(UsersFile.addUser(file, 'admin', ['read'])).rejects.toThrow(`the users file ${file} has a user named admin already`);
    await expect(UsersFile.removeUser(file, 'bob')).rejects.toThrow(`the users file ${file} has no user named bob; it has admin`);
    await expect(UsersFile.renewToken(file, 'bob')).rejects.toThrow(UsersFileError);
    await expect(UsersFile.addUser(file, 'bob smith', ['read'])).rejects.toThrow(
      /cannot add the user "bob smith" .*: name: a user name is/,
    );
    await expect(UsersFile.addUser(file, 'bob', ['write' as 'read'])).rejects.toThrow(/rights\.0: "write" is not a right/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('addUser makes a missing file holding that user alone', async () => {
    const file = usersFilePath();
    const token = await UsersFile.addUser(file, 'ops', ['admin']);
    const { users, firstAdminToken } = await UsersFile.open(file);
    expect(firstAdminToken).toBeNull();
    expect(users.authenticate(token)).toEqual({ name: 'ops', rights: ['admin'] });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
