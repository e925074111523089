/**
 * HTML with escaping by construction: `html` escapes every interpolated value unless it is
 * already `Safe` (built by `html` itself). Transcript text can never become markup.
 */
import { visibleText } from '../visible-text.js';

/** Markup that was built by `html`; why: only this type is inserted without escaping. */
export class Safe {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escape text for element content and quoted attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"'`]/g, (c) => ESC[c] ?? c);
}

function part(v: unknown): string {
  if (v instanceof Safe) return v.value;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(v);
}

/** The template tag every page uses; why: forgetting to escape is not possible. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Safe {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += part(values[i]) + (strings[i + 1] ?? '');
  return new Safe(out);
}

/** A link under the UI mount with query parameters encoded; why: no hand-built URLs. */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const q = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `/ui${path}${q ? '?' + q : ''}`;
}

/** Cut long text for a preview, saying how much was cut; why: big outputs never freeze a page. */
export function excerpt(s: string, max: number): { text: string; cut: number } {
  if (s.length <= max) return { text: s, cut: 0 };
  return { text: s.slice(0, max), cut: s.length - max };
}

/** Text a reviewer decides on, with nothing hidden and look-alikes flagged (shared with the CLI, elicitation and webhooks). */
export { lookalikeWarning, reviewable } from '../approvals/reviewable.js';

/**
 * Agent-supplied text in the transcript views, with control, zero-width and bidi characters as
 * visible escapes (the set the approval card and the CLI transcript views escape) and a stack of
 * more than 6 combining marks counted (visibleText); why: an override in a statement, a client
 * name or a result must not reorder what a reviewer audits, nor a Zalgo stack paint over it.
 */
export function shown(v: unknown): string {
  return visibleText(String(v ?? ''));
}
