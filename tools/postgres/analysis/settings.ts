/**
 * The settings a statement reads by name through current_setting(name [, missing_ok]), for
 * SqlFacts.settings. Why: under masks and deny rules a custom setting (`app.api_key`, which
 * `ALTER ROLE/DATABASE ... SET` may have given a secret) is refused, while a built-in one
 * (`search_path`, `TimeZone`) reads (setting-reads.ts). The name counts only when it is a string
 * constant Warden reads byte for byte as PostgreSQL does: a '' or dollar-quoted string, an E''
 * string without a backslash (lexer.ts literalText), in parentheses or cast to text or varchar
 * (no length, unquoted: pg_catalog's types). Anything else is unknown (null): a column, a
 * parameter, an expression, a subquery, an E'' escape, B'', X'', N'', another cast (a type of
 * one's own may turn 'search_path' into any text), the column form `t.current_setting`.
 */
import type { Ctx } from './context.js';
import { functionKey } from './names.js';

type Node = Record<string, unknown>;

/** Casts PostgreSQL applies to a string constant without changing its text (as the parser spells the types). */
const TEXT_TYPES: ReadonlySet<string> = new Set(['TEXT', 'VARCHAR', 'CHARACTER VARYING']);

/** Whether a call (as facts spell it: no schema, or pg_catalog's) is current_setting. */
export function isCurrentSetting(fn: string): boolean {
  return functionKey(fn) === 'current_setting';
}

/**
 * Whether a setting name is a PostgreSQL built-in one: a plain name (letters, digits,
 * underscores) without a dot, not ALL. A custom setting's name always has a dot (PostgreSQL
 * refuses to define or set one without), and every built-in name is plain; anything else is
 * not taken for built-in. SHOW uses the same rule (statement.ts).
 */
export function isBuiltInSetting(name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name) && name.toLowerCase() !== 'all';
}

/** Record the setting a current_setting call node reads (its lower-cased name, or null when unknown). */
export function noteSettingCall(ctx: Ctx, call: Node | null): void {
  const args = call?.args as Node | undefined;
  const list = args?.type === 'expr_list' && Array.isArray(args.value) ? (args.value as unknown[]) : [];
  const name = list.length === 1 || list.length === 2 ? constantText(list[0], ctx) : null;
  // Setting names compare case-insensitively (ASCII), so facts spell them in lower case.
  ctx.settings.push(name === null ? null : name.replace(/[A-Z]/g, (c) => c.toLowerCase()));
}

/** The text of a string constant, possibly cast to text or varchar, or null (also format()'s format string, functions.ts). */
export function constantText(arg: unknown, ctx: Ctx): string | null {
  if (!arg || typeof arg !== 'object' || Array.isArray(arg)) return null;
  const o = arg as Node;
  if (o.type === 'single_quote_string') {
    const m = /^wlit(\d+)$/.exec(String(o.value));
    return m ? (ctx.literalTexts[Number(m[1])] ?? null) : null;
  }
  if (o.type === 'cast' && Array.isArray(o.target) && o.target.length > 0 && o.target.every(isTextType)) return constantText(o.expr, ctx);
  return null;
}

function isTextType(t: unknown): boolean {
  if (!t || typeof t !== 'object') return false;
  const keys = Object.keys(t);
  return keys.length === 1 && keys[0] === 'dataType' && TEXT_TYPES.has(String((t as Node).dataType));
}

/** Facts' spelling of the recorded settings: each once, names sorted, null (unknown) last. */
export function sortSettings(settings: readonly (string | null)[]): (string | null)[] {
  const names = [...new Set(settings.filter((s): s is string => s !== null))].sort();
  return settings.includes(null) ? [...names, null] : names;
}
