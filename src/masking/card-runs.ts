/**
 * Card numbers inside a run of digits (the credit_card detector, detectors.ts): which part of a
 * run of digits and separators is a Luhn-valid card in a printed layout. Why apart: the run
 * splitting is a grammar of its own, and it kept detectors.ts over the project's module size.
 */
import { cardNumberValid } from './validators.js';

// A maximal run of 13+ digits with single space/dash/dot/slash separators (as cards are printed;
// Unicode spaces and dashes arrive folded to these); the callback decides which part of it (if
// any) is a card, so a prefix like "ref 12 " cannot hide the card after it.
export const CARD_RUN_RE = /(?<![A-Za-z0-9])\d(?:[ ./-]?\d){12,}/g;
const SEP_SPLIT = /([ ./-])/;
const HAS_SEP = /[ ./-]/;

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57);
}

/**
 * Printed card layouts: the first group has 4 digits, inner groups 4 or 6 (Amex, Diners),
 * the last 1 to 6. UUID pieces (8-4-4) and phone numbers do not fit.
 */
function groupFits(len: number, index: number, first: number, last: number): boolean {
  if (first === last) return len >= 13 && len <= 19; // one unbroken run
  if (index === first) return len === 4;
  if (index === last) return len >= 1 && len <= 6;
  return len === 4 || len === 6;
}

/** A run's cards (Luhn-valid, in a printed layout) replaced by `[credit_card]`, calling onHit for each. */
export function maskCardRun(run: string, onHit: () => void): string {
  if (!HAS_SEP.test(run)) {
    if (run.length > 19 || !cardNumberValid(run)) return run;
    onHit();
    return '[credit_card]';
  }
  // parts: group, sep, group, sep, ... (groups at even indexes).
  const parts = run.split(SEP_SPLIT);
  const groups: string[] = [];
  const seps: string[] = [];
  parts.forEach((p, i) => (i % 2 === 0 ? groups.push(p) : seps.push(p)));
  const out: string[] = [];
  let i = 0;
  while (i < groups.length) {
    let found = -1;
    let digits = '';
    for (let j = i; j < groups.length; j++) {
      if (j > i && seps[j - 1] !== seps[i]) break; // one separator style throughout
      digits += groups[j] ?? '';
      if (digits.length > 19) break;
      if (j > i && !groupFits((groups[j - 1] ?? '').length, j - 1, i, j)) break;
      if (digits.length >= 13 && groupFits((groups[j] ?? '').length, j, i, j) && cardNumberValid(digits)) {
        found = j;
      }
    }
    if (found >= 0) {
      onHit();
      out.push('[credit_card]');
      i = found + 1;
    } else {
      out.push(groups[i] ?? '');
      i++;
    }
    if (i < groups.length) out.push(seps[i - 1] ?? '');
  }
  return out.join('');
}

/** A run glued to letters at `end` (hex ids, hashes) or hyphenated into a larger token (UUIDs): not a card. */
export function cardRunEndsToken(text: string, end: number): boolean {
  return isAlpha(text.charCodeAt(end)) || (text.charCodeAt(end) === 45 && isAlnum(text.charCodeAt(end + 1)));
}
