/**
 * Awk program text, tokenised well enough to find what can run commands, write or read files:
 * `system`, `getline`, `close`, `ARGV`/`ARGC` (a file list the program rewrites), `|` pipes,
 * `>`/`>>` redirection of print/printf, `@include`/`@load`. String and regex literals are skipped
 * exactly, so `"a|b"` and `/x>y/` are harmless; whatever gawk, mawk and busybox awk might read
 * differently (a `/` that one takes for division and another for a regex, a `/` inside a regex
 * bracket, a backslash-newline in a string) is refused rather than guessed.
 */

/** Names that run commands, read other files or rewrite the file list. */
const DANGEROUS_NAMES = new Map([
  ['system', 'system() runs a command'],
  ['getline', 'getline reads files or command output'],
  ['close', 'close() belongs to pipes and redirections'],
  ['ARGV', 'ARGV changes which files awk reads'],
  ['ARGC', 'ARGC changes which files awk reads'],
  ['SYMTAB', 'SYMTAB reaches any variable (ARGV) by name'],
  ['FUNCTAB', 'FUNCTAB reaches any function (system) by name'],
]);

const KEYWORDS = new Set([
  'BEGIN', 'END', 'BEGINFILE', 'ENDFILE', 'function', 'func', 'if', 'else', 'while', 'for', 'do', 'break', 'continue', 'next',
  'nextfile', 'exit', 'return', 'delete', 'in', 'switch', 'case', 'default',
]);
/** Control keywords whose `( ... )` is followed by a statement, not by an operator. */
const CONTROL = new Set(['if', 'while', 'for', 'switch']);
/**
 * Built-in functions. mawk reads a `/` after one of them (`length /x/`) as a regex, gawk as a
 * division: which it is cannot be told, so a `/` there is refused.
 */
const BUILTINS = new Set([
  'length', 'substr', 'index', 'split', 'sub', 'gsub', 'match', 'sprintf', 'sin', 'cos', 'atan2', 'exp', 'log', 'sqrt', 'int',
  'rand', 'srand', 'tolower', 'toupper', 'fflush', 'gensub', 'strftime', 'systime', 'mktime', 'and', 'or', 'xor', 'lshift',
  'rshift', 'compl', 'asort', 'asorti', 'patsplit', 'isarray', 'typeof', 'strtonum', 'bindtextdomain', 'dcgettext', 'dcngettext',
]);

const NUMBER = /(?:0[xX][0-9A-Fa-f]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/** What a `/` after the previous token is. */
type Slash = 'regex' | 'division' | 'ambiguous';

/** Where a regex literal that starts at `start` (its `/`) ends (index after the closing `/`), or why it is refused. */
function regexEnd(s: string, start: number): number | string {
  let j = start + 1;
  for (;;) {
    const c = s[j];
    if (c === undefined || c === '\n') return 'unterminated awk regex';
    if (c === '/') return j + 1;
    if (c === '\\') {
      const n = s[j + 1];
      if (n === undefined || n === '\n') return 'awk regex with a backslash at the end of a line';
      j += 2;
      continue;
    }
    if (c === ']') return "awk regex with a ']' outside a bracket expression";
    if (c !== '[') {
      j++;
      continue;
    }
    // Bracket expression: implementations disagree on `/`, `\` and nested `[` inside one, so only
    // plain characters and `[:class:]` are accepted.
    j++;
    if (s[j] === '^') j++;
    if (s[j] === ']') j++;
    for (;;) {
      const b = s[j];
      if (b === undefined || b === '\n') return 'unterminated awk regex bracket expression';
      if (b === ']') {
        j++;
        break;
      }
      if (b === '/') return "awk regex bracket expression containing '/'";
      if (b === '\\') {
        const n = s[j + 1] ?? '';
        if (!/^[A-Za-z0-9.*+?(){}|^$ -]$/.test(n)) return `awk regex bracket expression with '\\${n}'`;
        j += 2;
        continue;
      }
      if (b === '[') {
        const m = /^\[:[a-z]+:\]/.exec(s.slice(j));
        if (m === null) return "awk regex bracket expression containing '[' that starts no [:class:]";
        j += m[0].length;
        continue;
      }
      j++;
    }
  }
}

/** Where a string literal that starts at `start` (its `"`) ends, or why it is refused. */
function stringEnd(s: string, start: number): number | string {
  let j = start + 1;
  for (;;) {
    const c = s[j];
    if (c === undefined || c === '\n') return 'unterminated awk string';
    if (c === '"') return j + 1;
    if (c === '\\') {
      const n = s[j + 1];
      if (n === undefined || n === '\n') return 'awk string with a backslash at the end of a line';
      j += 2;
      continue;
    }
    j++;
  }
}

/** Why one awk program text is dangerous or cannot be judged, or null when it only reads its input. */
export function awkProgramDanger(program: string): string | null {
  const s = program;
  // Multibyte locales (GBK, Shift-JIS) can swallow an ASCII `\` or `"` into a character.
  if (/[^\t\n\x20-\x7e]/.test(s)) return 'awk program has a character outside printable ASCII';
  let i = 0;
  let slash = 'regex' as Slash;
  /** The last token other than a newline: decides whether a newline may end a print statement. */
  let last = '';
  let lastIsOperand = false;
  const parens: boolean[] = []; // per open `(`: does a statement follow its `)`?
  let controlPending = false;
  let inPrint = false;
  let printDepth = 0;
  const operand = (tok: string): void => {
    slash = 'division';
    last = tok;
    lastIsOperand = true;
  };
  const operator = (tok: string, next: Slash = 'regex'): void => {
    slash = next;
    last = tok;
    lastIsOperand = false;
  };
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\\') {
      if (s[i + 1] !== '\n') return "awk program with a '\\' outside a string or regex";
      i += 2;
      continue;
    }
    if (c === '\n') {
      // A newline ends a print statement unless it follows `,`, `&&`, `||`, `?`, `:`, `{`, do, else ...
      if (inPrint && parens.length <= printDepth && (lastIsOperand || last === 'print' || last === 'printf')) inPrint = false;
      // gawk and mawk end a statement at a newline even inside `( )` (then a syntax error); other awks may not.
      slash = parens.length > 0 && lastIsOperand ? 'ambiguous' : 'regex';
      i++;
      continue;
    }
    if (c === '#') {
      while (i < s.length && s[i] !== '\n') i++;
      if (s[i - 1] === '\\') return 'awk comment ending in a backslash';
      continue;
    }
    // Only a `(` right after if/while/for/switch opens a condition that a statement follows.
    const afterControl = controlPending;
    controlPending = false;
    if (c === '"') {
      const end = stringEnd(s, i);
      if (typeof end === 'string') return end;
      i = end;
      operand('"');
      continue;
    }
    if (c === '/') {
      if (slash === 'ambiguous') return `awk '/' after '${last}' may be a division or a regex, depending on the awk`;
      if (slash === 'division') {
        i += s[i + 1] === '=' ? 2 : 1;
        operator('/');
        continue;
      }
      const end = regexEnd(s, i);
      if (typeof end === 'string') return end;
      i = end;
      operand('/re/');
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(s);
    if (num !== null) {
      i += num[0].length;
      operand('number');
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(s);
    if (name !== null) {
      const w = name[0];
      i += w.length;
      const danger = DANGEROUS_NAMES.get(w);
      if (danger !== undefined) return `awk ${danger}`;
      if (w === 'fflush' && !/^[ \t]*\([ \t]*\)/.test(s.slice(i))) return 'awk fflush() with an argument names a pipe or file';
      if (w === 'print' || w === 'printf') {
        inPrint = true;
        printDepth = parens.length;
        operator(w);
      } else if (KEYWORDS.has(w)) {
        controlPending = CONTROL.has(w);
        operator(w);
      } else if (BUILTINS.has(w)) {
        operator(w, 'ambiguous');
      } else operand(w);
      continue;
    }
    i++;
    const two = c + (s[i] ?? '');
    switch (c) {
      case '(':
        parens.push(afterControl);
        operator('(');
        break;
      case ')': {
        if (parens.length === 0) return "awk program with an unmatched ')'";
        const control = parens.pop() === true;
        if (control) operator(')');
        else operand(')');
        break;
      }
      case '[':
      case '{':
      case ',':
      case '?':
      case ':':
      case '$':
      case '~':
      case '!':
      case '*':
      case '%':
      case '^':
      case '=':
      case '<':
        operator(c);
        break;
      case ']':
        operand(']');
        break;
      case ';':
      case '}':
        inPrint = false;
        operator(c);
        break;
      case '&':
        if (two !== '&&') return "awk program with a single '&'";
        i++;
        operator('&&');
        break;
      case '|':
        if (two !== '||') return "awk '|' pipes output to or input from a command";
        i++;
        operator('||');
        break;
      case '>':
        if (two === '>>') return "awk '>>' appends output to a file";
        if (two === '>=') {
          i++;
          operator('>=');
          break;
        }
        if (inPrint) return "awk '>' inside print/printf writes output to a file";
        operator('>');
        break;
      case '+':
      case '-':
        if (two === '++' || two === '--') {
          i++;
          operator(two, 'ambiguous');
        } else operator(c);
        break;
      case '@':
        return "awk '@' (@include, @load, indirect calls) loads code or calls functions by name";
      default:
        return `awk program with an unexpected character '${c}'`;
    }
  }
  return null;
}
