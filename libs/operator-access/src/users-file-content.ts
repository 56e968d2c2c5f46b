import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { oneOf } from '#contracts';
import { RIGHTS, type Right } from './access-rules.js';
import { hashToken, newToken } from './tokens.js';

/** A malformed or unreadable users file: the message names the file and says what to fix. */
export class UsersFileError extends Error {
  override name = 'UsersFileError';
}

/** A user's name is a command's actor, and the SDK names the actor in a NATS subject: one subject token. */
const USER_NAME_PATTERN = /^[^\s.*>]{1,200}$/;

const userSchema = z.strictObject({
  name: z.string().regex(USER_NAME_PATTERN, 'a user name is 1 to 200 characters without spaces, ".", "*" or ">"'),
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/, "tokenHash is the token's SHA-256 in 64 lowercase hex digits"),
  rights: z
    .array(oneOf(RIGHTS, 'a right'))
    .min(1, 'a user with no rights can do nothing: give at least one of read, import, export, admin, or remove the user')
    .refine((rights) => new Set(rights).size === rights.length, 'each right appears once'),
  createdAt: z.iso.datetime(),
});

const usersFileSchema = z
  .strictObject({
    version: z.literal(1, 'version is 1, the only format of the users file'),
    users: z.array(userSchema),
    sessionSecret: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43,}$/, 'sessionSecret is at least 32 random bytes in base64url (43 characters or more)'),
  })
  .superRefine((file, context) => {
    const seen = new Set<string>();
    file.users.forEach((user, index) => {
      if (seen.has(user.name)) context.addIssue({ code: 'custom', path: ['users', index, 'name'], message: `${user.name} appears twice` });
      seen.add(user.name);
    });
  });

export type UserEntry = z.infer<typeof userSchema>;
export type UsersFileContent = z.infer<typeof usersFileSchema>;

/** The users file's content, checked; a UsersFileError naming `file` and every problem otherwise. */
export function parseUsersFile(text: string, file: string): UsersFileContent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsersFileError(
      `the users file ${file} is not JSON (${(error as Error).message}): fix it, or move it away to have a new one made`,
    );
  }
  const parsed = usersFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsersFileError(`the users file ${file} is not valid: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

export function serializeUsersFile(content: UsersFileContent): string {
  return `${JSON.stringify(content, null, 2)}\n`;
}

/** A user entry for a new token, and the token, which is shown once and stored only hashed. */
export function newUser(name: string, rights: Right[], now: Date, file: string): { entry: UserEntry; token: string } {
  const token = newToken();
  const parsed = userSchema.safeParse({ name, tokenHash: hashToken(token), rights, createdAt: now.toISOString() });
  if (!parsed.success) {
    throw new UsersFileError(`cannot add the user ${JSON.stringify(name)} to the users file ${file}: ${describeIssues(parsed.error)}`);
  }
  return { entry: parsed.data, token };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`).join('; ');
}

export function newUsersFile(users: UserEntry[]): UsersFileContent {
  return { version: 1, users, sessionSecret: randomBytes(32).toString('base64url') };
}
