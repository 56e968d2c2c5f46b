/** A job definition typed as JSON, checked as it is typed. */
export type DefinitionCheck = { ok: true; definition: Record<string, unknown> } | { ok: false; message: string };

export function checkDefinition(text: string): DefinitionCheck {
  if (text.trim() === '') return { ok: true, definition: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `This is not valid JSON: ${(error as Error).message}.` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'A definition is a JSON object, in braces: {"file": "contacts.csv"}.' };
  }
  return { ok: true, definition: value as Record<string, unknown> };
}

/** The reject limit typed in a form: empty is no limit; otherwise a whole number, 0 or more. */
export type RejectLimitCheck = { ok: true; maxRejects: number | null } | { ok: false; message: string };

export function checkRejectLimit(text: string): RejectLimitCheck {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, maxRejects: null };
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: 'The reject limit is a whole number, 0 or more; leave it empty for no limit.' };
  return { ok: true, maxRejects: Number(trimmed) };
}
