import { describe, expect, it } from 'vitest';
import { checkDefinition, checkRejectLimit } from './definition.js';

describe('a definition typed as JSON', () => {
  it('takes an object, and nothing as an empty one', () => {
    expect(checkDefinition('{"file": "a.csv"}')).toEqual({ ok: true, definition: { file: 'a.csv' } });
    expect(checkDefinition('  ')).toEqual({ ok: true, definition: {} });
  });

  it('says what is wrong with anything else', () => {
    expect(checkDefinition('{"file": ')).toMatchObject({ ok: false, message: expect.stringMatching(/^This is not valid JSON: /) });
    expect(checkDefinition('[1, 2]')).toEqual({
      ok: false,
      message: 'A definition is a JSON object, in braces: {"file": "contacts.csv"}.',
    });
  });
});

describe('a reject limit typed in a form', () => {
  it('reads empty as no limit and a whole number as the limit', () => {
    expect(checkRejectLimit('')).toEqual({ ok: true, maxRejects: null });
    expect(checkRejectLimit(' 100 ')).toEqual({ ok: true, maxRejects: 100 });
    expect(checkRejectLimit('-1')).toMatchObject({ ok: false });
    expect(checkRejectLimit('2.5')).toMatchObject({ ok: false });
  });
});
