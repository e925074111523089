/**
 * What `NAME=value` words make a shell run (deny-runs.ts): a command line in the value, code
 * Warden cannot read, or a value bash may read as code; and the shell text a subscript or a
 * prompt expands to, judged like any script.
 */
import type { Run } from './deny-runs.js';
import { variableRuns } from './runners.js';

/**
 * Shell text that expands `text` the way bash expands a subscript, an indirection's target or a
 * prompt (`${x@P}`): inside double quotes, generously. Quotes and backslashes are dropped: bash
 * reads the text inside a `$(..)` of it afresh, so `a[$(r""m)]` and `a[$(r\m)]` run rm, and kept
 * as literal text they named a program `r""m`; tree-sitter-bash reads `'..'` inside `"${x:-..}"`
 * as quoting, bash does not. So every `$(..)`, backtick and `${..}` in it counts, even one bash
 * would not run.
 */
export function expandedText(text: string): string {
  return `: "${text.replace(/['"\\]/g, '')}"`;
}

/**
 * A value judged as shell text (expandedText), its `${X:=v}` and `${X=v}` read as `${X:-v}`: the
 * assignment is already recorded (parse.ts keeps its value as written), and judging it again
 * would judge the same text without end.
 */
function valueText(value: string): string {
  return expandedText(value.replace(/(\$\{[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?:?)=/g, '$1-'));
}

/**
 * `NAME=value` words that make programs run something: a command line in the value (shell text
 * to judge), or code Warden cannot read (a library, a file to source). Any other value holding
 * `$` or a backtick is judged as shell text too: bash runs the `$(..)` in it when the variable
 * is read as arithmetic, by indirection or as a prompt (`x='a[$(cmd)]'; echo $((x))`), also in
 * a later shell that inherits it.
 */
export function commandVariables(words: string[], by: string): Run[] {
  const out: Run[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    const name = w.slice(0, eq);
    const value = w.slice(eq + 1);
    const kind = eq > 0 ? variableRuns(name) : null;
    if (kind === 'command') out.push({ kind: 'script', text: value, why: `in ${name} set by ${by}` });
    else if (kind === 'loader') out.push({ kind: 'any', why: `${name} set by ${by} makes programs load code Warden cannot read` });
    else if (eq > 0 && /[$`]/.test(value)) out.push({ kind: 'script', text: valueText(value), why: `in the value of ${name} set by ${by}, which bash may read as code` });
  }
  return out;
}
