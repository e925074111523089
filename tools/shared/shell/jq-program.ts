/**
 * What a jq-family program reads besides its input: the environment. jq's `env` and `$ENV`
 * (also `env.NAME`, `$ENV.NAME`, `$ ENV`, inside a string's `\(...)`), yq's `env(NAME)`,
 * `strenv(NAME)` and `envsubst` print the remote environment, which may hold secrets (a
 * database URL, a token). So a grant of jq or yq is not a grant to read it: the condition
 * refuses such a program unless the grant says `environment: true` (condition.ts). A program
 * Warden cannot read counts as one that reads it: `-f FILE`, a module (`import`, `include`),
 * yq's `eval` (code built from strings). Under `paths:`, yq's `load*` functions read a file
 * its expression names, which paths: does not judge: refused too. Field names (`.env`),
 * variables (`$env`, `$__loc__`), string text and the other builtins (`input_filename`) pass;
 * `ENV` counts wherever it is code and no field (jq reads `$ #comment` NEWLINE `ENV` as `$ENV`).
 * The scan is generous: in a program holding `#` (a comment, whose end jq 1.7 moves with a
 * backslash) or `'`, string text counts as code too; so does an object key (`{env: 1}`).
 */
import { findFlag } from './flags.js';
import { scanWords } from './operands.js';

/** jq's language: jq and its kin (gojq, jaq, kislyuk's yq), and mikefarah's yq, whose expressions add functions. */
export const JQ_FAMILY: ReadonlySet<string> = new Set(['jq', 'yq', 'gojq', 'jaq']);
const ENVIRONMENT = new Set(['env', 'strenv', 'envsubst']);
const MODULES = new Set(['import', 'include']);

/** An identifier in the program and the text before it. */
interface Name {
  name: string;
  before: string;
}

/** The identifiers of jq code in `text`: outside string literals, but inside their `\(...)` interpolations. */
function codeNames(text: string): Name[] {
  // A comment, or a quote jq does not have (yq's grammar may), makes string text count as code.
  const raw = text.includes('#') || text.includes("'");
  const out: Name[] = [];
  const returns: number[] = []; // the paren depth at which each open interpolation ends
  let inString = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === '\\' && text[i + 1] === '(') {
        returns.push(depth++);
        inString = false;
        i++;
      } else if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' && !raw) inString = true;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (returns.length > 0 && depth === returns[returns.length - 1]) {
        returns.pop();
        inString = true;
      }
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j] as string)) j++;
      out.push({ name: text.slice(i, j), before: text.slice(Math.max(0, i - 64), i) });
      i = j - 1;
    }
  }
  return out;
}

/** Why the program `text` reads the environment or code Warden cannot read, or null. */
function programReach(program: string, text: string, bounded: boolean): string | null {
  for (const { name, before } of codeNames(text)) {
    const variable = /\$\s*$/.test(before);
    const field = /(^|[^.])\.$/.test(before);
    if (field) continue;
    // `$ENV` also with a comment between `$` and the name (`$ #x` NEWLINE `ENV`): any ENV in code that is no field counts.
    if (name === 'ENV') return `env:${program} reads the environment ($ENV)`;
    if (variable) continue;
    if (ENVIRONMENT.has(name)) return `env:${program} reads the environment (${name})`;
    if (MODULES.has(name)) return `code:${program} loads a module (${name}), a program Warden cannot read`;
    if (program === 'yq' && name === 'eval') return `code:${program} evaluates an expression built at run time (eval), a program Warden cannot read`;
    if (program === 'yq' && bounded && name.startsWith('load')) return `file:${program} ${name} reads a file its expression names, which paths: does not judge`;
  }
  return null;
}

/** The program texts of a jq-family command: jq's filter; for yq every operand and --expression (mikefarah's `yq e EXPR`). */
function programTexts(program: string, args: string[]): string[] {
  const scanned = scanWords(program, args);
  if (scanned === undefined) return args.filter((a) => !a.startsWith('-'));
  if (program !== 'yq') return scanned.operands.slice(0, 1);
  return [...scanned.operands, ...scanned.options.filter((o) => o.flag.startsWith('--exp') && o.value !== undefined).map((o) => o.value as string)];
}

/**
 * Why a jq-family command's program reaches beyond its input (see above), or null; at once for
 * any other program. `environment`: the grant lets it read the environment; `bounded`: the grant has `paths:`.
 */
export function jqProgramReach(program: string, args: string[], environment: boolean, bounded: boolean): string | null {
  if (!JQ_FAMILY.has(program)) return null;
  const denied = (why: string): string | null => {
    const [kind, text] = [why.slice(0, why.indexOf(':')), why.slice(why.indexOf(':') + 1)];
    if (kind === 'file') return `${text}.`;
    if (environment) return null;
    if (kind === 'env') return `${text}, which may hold secrets; this grant does not say environment: true.`;
    return `${text}: it may read the environment, which may hold secrets; this grant does not say environment: true.`;
  };
  const file = findFlag(program, args, ['-f', '--from-file']);
  if (file !== null) {
    const r = denied(`code:${program} ${file.word} runs a program Warden cannot read (from a file)`);
    if (r !== null) return r;
  }
  for (const text of programTexts(program, args)) {
    const why = programReach(program, text, bounded);
    if (why !== null) {
      const r = denied(why);
      if (r !== null) return r;
    }
  }
  return null;
}
