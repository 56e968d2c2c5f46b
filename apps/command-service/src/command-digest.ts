import { hash } from 'node:crypto';
import type { CommandBody, CommandName } from '#contracts';

/**
 * Fingerprint of a command: its name and its body but the commandId, as JSON with every object's
 * keys sorted, so that the same command sent again has the same digest whatever the order of its
 * fields. SHA-256 in base64url, cut to 22 characters (132 bits): it is stored on every event.
 */
export function commandDigest(name: CommandName, body: CommandBody): string {
  return hash('sha256', `{"body":${canonicalJson(body, 'commandId')},"name":${JSON.stringify(name)}}`, 'base64url').slice(0, 22);
}

/** JSON with the keys of every object sorted; `omit` is left out of the outermost object. */
function canonicalJson(value: unknown, omit?: string): string {
  // As JSON.stringify does: an undefined field is left out, an undefined array item is null.
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  let fields = '';
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined || key === omit) continue;
    fields += `${fields === '' ? '' : ','}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `{${fields}}`;
}
