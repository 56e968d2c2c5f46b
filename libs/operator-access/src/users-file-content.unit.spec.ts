import { describe, expect, it } from 'vitest';
import { hashToken, newToken } from './tokens.js';
import { parseUsersFile, UsersFileError } from './users-file-content.js';

const FILE = '/srv/jobs/users.json';
const user = { name: 'alice', tokenHash: hashToken(newToken()), rights: ['read', 'import'], createdAt: '2026-01-05T09:00:00.000Z' };
const valid = { version: 1, users: [user], sessionSecret: 'k'.repeat(43) };
const text = (content: unknown) => JSON.stringify(content);

function problemOf(content: string): string {
  try {
    parseUsersFile(content, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(UsersFileError);
    return (error as Error).message;
  }
  throw new Error('the users file was accepted');
}

describe('parseUsersFile', () => {
  it('reads a valid file', () => {
    expect(parseUsersFile(text(valid), FILE)).toEqual(valid);
  });

  it('refuses a file that is not JSON, naming it', () => {
    expect(problemOf('{"version": 1,')).toMatch(
      /^the users file \/srv\/jobs\/users\.json is not JSON \(.+\): fix it, or move it away to have a new one made$/,
    );
  });

  it('refuses an unknown right, saying which user and which rights exist', () => {
    expect(problemOf(text({ ...valid, users: [{ ...user, rights: ['read', 'write'] }] }))).toBe(
      'the users file /srv/jobs/users.json is not valid: users.0.rights.1: "write" is not a right; use one of read, import, export, admin',
    );
  });

  it('refuses a user without rights, a right twice, a name that cannot be an actor, a plain-text token and a missing field', () => {
    expect(problemOf(text({ ...valid, users: [{ ...user, rights: [] }] }))).toMatch(
      /users\.0\.rights: a user with no rights can do nothing/,
    );
    expect(problemOf(text({ ...valid, users: [{ ...user, rights: ['read', 'read'] }] }))).toMatch(
      /users\.0\.rights: each right appears once/,
    );
    expect(problemOf(text({ ...valid, users: [{ ...user, name: 'alice smith' }] }))).toMatch(
      /users\.0\.name: a user name is 1 to 200 characters/,
    );
    expect(problemOf(text({ ...valid, users: [{ ...user, tokenHash: newToken() }] }))).toMatch(
      /users\.0\.tokenHash: tokenHash is the token's SHA-256/,
    );
    const { createdAt: _, ...withoutDate } = user;
    expect(problemOf(text({ ...valid, users: [withoutDate] }))).toMatch(/users\.0\.createdAt/);
  });

  it('refuses two users of one name', () => {
    expect(problemOf(text({ ...valid, users: [user, { ...user, tokenHash: hashToken(newToken()) }] }))).toMatch(
      /users\.1\.name: alice appears twice/,
    );
  });

  it('refuses another version, a short session secret and unknown fields', () => {
    expect(problemOf(text({ ...valid, version: 2 }))).toMatch(/version: version is 1/);
    expect(problemOf(text({ ...valid, sessionSecret: 'short' }))).toMatch(/sessionSecret: sessionSecret is at least 32 random bytes/);
    expect(problemOf(text({ ...valid, users: [{ ...user, token: 'jt_x' }] }))).toMatch(/users\.0: .*token/);
  });

  it('lists every problem at once', () => {
    const message = problemOf(
      text({
        version: 1,
        users: [
          { ...user, rights: ['root'] },
          { ...user, name: '' },
        ],
      }),
    );
    expect(message).toMatch(/users\.0\.rights\.0: .*; users\.1\.name: .*; sessionSecret: /);
  });
});
