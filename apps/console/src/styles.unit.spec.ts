import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JOB_STATUSES } from '#contracts';

/** The colour variables of styles.css: the light ones (`:root`), and the dark ones over them. */
function palettes(): { light: Record<string, string>; dark: Record<string, string> } {
  const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');
  const variables = (block: string) => Object.fromEntries([...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1]!, m[2]!]));
  const light = variables(/:root \{([^}]*)\}/.exec(css)![1]!);
  const dark = variables(/@media \(prefers-color-scheme: dark\) \{\s*:root \{([^}]*)\}/.exec(css)![1]!);
  return { light, dark: { ...light, ...dark } };
}

/** WCAG 2 contrast ratio of two sRGB colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high! + 0.05) / (low! + 0.05);
}

/** [foreground, background, least ratio]: text 4.5:1, icons, borders and focus rings 3:1 (WCAG 1.4.3 and 1.4.11). */
const PAIRS: [string, string, number][] = [
  ['text', 'bg', 4.5],
  ['text', 'surface', 4.5],
  ['muted', 'bg', 4.5],
  ['muted', 'surface', 4.5],
  ['link', 'bg', 4.5],
  ['link', 'surface', 4.5],
  ['primary-text', 'primary', 4.5],
  ['danger-text', 'danger', 4.5],
  ['error', 'error-bg', 4.5],
  ['error', 'bg', 4.5],
  ['ok', 'bg', 4.5],
  ['bg', 'text', 4.5],
  ['focus', 'bg', 3],
  ['focus', 'surface', 3],
  ['border', 'bg', 3],
  ['border', 'surface', 3],
  ['fill', 'track', 3],
  ['fill', 'bg', 3],
  ['status-pausing', 'bg', 4.5],
  ...JOB_STATUSES.flatMap((status): [string, string, number][] => [
    [`status-${status}`, 'bg', 3],
    [`status-${status}`, 'surface', 3],
  ]),
];

describe('the console colours', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`pass WCAG AA contrast in the ${scheme} scheme`, () => {
      const colours = palettes()[scheme];
      const failing = PAIRS.filter(([fg, bg, least]) => contrast(colours[fg]!, colours[bg]!) < least).map(
        ([fg, bg, least]) => `${fg} on ${bg}: ${contrast(colours[fg]!, colours[bg]!).toFixed(2)} < ${least}`,
      );
      expect(failing).toEqual([]);
    });
  }
});
