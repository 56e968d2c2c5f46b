import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_SESSION_TTL_MS, sessionsFor, UsersFile } from '#operator-access';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function usersFilePath(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'operator-access-'));
  folders.push(folder);
  return path.join(folder, 'users.json');
}

function clock() {
  let time = 1_000_000;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

/** A users file with alice, opened with a clock the test moves. */
async function withAlice() {
  const file = usersFilePath();
  const time = clock();
  const { users } = await UsersFile.open(file, { now: time.now });
  const token = await UsersFile.addUser(file, 'alice', ['read', 'import']);
  time.advance(1_000);
  const alice = users.authenticate(token)!;
  expect(alice).toEqual({ name: 'alice', rights: ['read', 'import'] });
  return { file, time, users, token, alice, sessions: sessionsFor(users, { now: time.now }) };
}

it('a session reads as its user until it expires, 12 hours by default', async () => {
  const { time, alice, sessions } = await withAlice();
  const session = sessions.issue(alice);
  expect(sessions.read(session)).toEqual(alice);
  time.advance(DEFAULT_SESSION_TTL_MS - 1);
  expect(sessions.read(session)).toEqual(alice);
  time.advance(1);
  expect(sessions.read(session)).toBeNull();
});

it('a session is read by every instance on the same users file, and by none on another', async () => {
  const { file, time, alice, sessions } = await withAlice();
  const session = sessions.issue(alice);
  const other = await UsersFile.open(file, { now: time.now });
  expect(sessionsFor(other.users, { now: time.now }).read(session)).toEqual(alice);
  const elsewhere = await UsersFile.open(usersFilePath(), { now: time.now });
  expect(sessionsFor(elsewhere.users, { now: time.now }).read(session)).toBeNull();
});

it('a tampered session is refused', async () => {
  const { alice, sessions } = await withAlice();
  const session = sessions.issue(alice);
  const [version, body, signature] = session.split('.');
  const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
  const asAdmin = Buffer.from(JSON.stringify({ ...claims, u: 'admin' })).toString('base64url');
  expect(sessions.read(`${version}.${asAdmin}.${signature}`)).toBeNull();
  expect(sessions.read(`${session.slice(0, -2)}${session.endsWith('AA') ? 'BB' : 'AA'}`)).toBeNull();
  expect(sessions.read('')).toBeNull();
});

it('a session takes the rights the file gives now, and ends when its user is removed or gets a new token', async () => {
  const { file, time, alice, sessions } = await withAlice();
  const session = sessions.issue(alice);
  const content = JSON.parse(readFileSync(file, 'utf8'));
  content.users[1].rights = ['read'];
  writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
  time.advance(1_000);
  expect(sessions.read(session)).toEqual({ name: 'alice', rights: ['read'] });

  await UsersFile.renewToken(file, 'alice');
  time.advance(1_000);
  expect(sessions.read(session)).toBeNull();

  const renewed = sessions.issue({ name: 'alice', rights: ['read'] });
  expect(sessions.read(renewed)).toEqual({ name: 'alice', rights: ['read'] });
  await UsersFile.removeUser(file, 'alice');
  time.advance(1_000);
  expect(sessions.read(renewed)).toBeNull();
});

it('a new session secret in the file ends every session', async () => {
  const { file, time, alice, sessions } = await withAlice();
  const session = sessions.issue(alice);
  const content = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...content, sessionSecret: 'n'.repeat(43) }), { mode: 0o600 });
  time.advance(1_000);
  expect(sessions.read(session)).toBeNull();
  expect(sessions.read(sessions.issue(alice))).toEqual(alice);
});
