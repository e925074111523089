/**
 * A call's text as a size-limited channel (Slack, a webhook relayed to chat) shows it to a
 * reviewer: hidden characters made visible and look-alike words flagged by the shared helper
 * (reviewable.ts, as the UI card, `warden approvals show` and the elicitation prompt do), and a
 * cut that is always announced. A review found the Slack preview cut silently at 1,500
 * characters, after a run of blanks that pushed `OR true` out of sight.
 */
import { lookalikeWarning, reviewable } from './reviewable.js';

/** What a limited channel shows of a call. */
export interface CallPreview {
  /** The reviewable text; when cut, its head and tail around a `⟨… N characters cut …⟩` line. */
  text: string;
  /** Characters (code points) of the whole reviewable text, and how many the preview shows. */
  total: number;
  shown: number;
  cut: boolean;
  /** The look-alike warning line over the call and its context texts, or null. */
  warning: string | null;
}

// An escape (\u{202e}) or a blank-run count (⟨40 spaces⟩) is never split by a cut, nor a
// character from its combining marks and their count (reviewable.ts markCount: `Z̀́ ⟨498 more
// combining marks⟩ `), so a cut never leaves marks without their base or a run without its count.
const TOKEN = /\\u\{[0-9a-f]+\}| ⟨\d+ [a-z/ ]+(?:: U\+[0-9A-F]{4,6}(?:, U\+[0-9A-F]{4,6})*)?⟩ |[\s\S]\p{M}*(?: ⟨\d+ more combining marks⟩ )?/gu;

/**
 * The preview of `raw` in at most about `max` characters: the head and the tail (where a
 * dangerous `OR true` tends to sit) with the cut marked between them. `context` adds texts whose
 * look-alikes the warning should also name (summary, requester, connection).
 * Why: a reviewer must never read a statement whose tail was dropped without being told.
 */
export function callPreview(raw: string, max: number, context: string[] = []): CallPreview {
  const visible = reviewable(raw);
  const tokens = visible.match(TOKEN) ?? [];
  const size = (t: string) => Array.from(t).length;
  const total = tokens.reduce((n, t) => n + size(t), 0);
  const warning = lookalikeWarning(raw, ...context);
  if (total <= max) return { text: visible, total, shown: total, cut: false, warning };
  const tailBudget = Math.floor(max / 4);
  let head = '';
  let headSize = 0;
  let i = 0;
  for (; i < tokens.length && headSize + size(tokens[i]!) <= max - tailBudget; i++) {
    head += tokens[i]!;
    headSize += size(tokens[i]!);
  }
  let tail = '';
  let tailSize = 0;
  for (let j = tokens.length - 1; j >= i && tailSize + size(tokens[j]!) <= tailBudget; j--) {
    tail = tokens[j]! + tail;
    tailSize += size(tokens[j]!);
  }
  const shown = headSize + tailSize;
  return { text: `${head}\n⟨… ${(total - shown).toLocaleString('en-US')} characters cut …⟩\n${tail}`, total, shown, cut: true, warning };
}
