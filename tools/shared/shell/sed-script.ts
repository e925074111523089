/**
 * The sed script scanner: a port of GNU sed's program compiler that finds the commands and
 * flags that run commands or touch files. Options (-e, -i, -f, ...) are read in script-checks.ts.
 */

/**
 * Why a sed script is dangerous (e/w/W/r/R commands, e/w flags of s), or null if it is not;
 * `seen` collects the command letters read (`#` for a comment), in order (whole-lines.ts).
 * A port of GNU sed 4.9's compile_program()/match_slash()/snarf_char_class() (sed/compile.c):
 * where a regex ends decides what the following characters are, so the scan must match GNU's
 * exactly (a bracket expression `[/]` does not end an `s/.../` regex). Everything GNU would
 * reject, and every spelling whose meaning other seds (busybox, BSD) might split differently,
 * is refused rather than guessed.
 */
export function sedScriptDanger(script: string, seen?: string[]): string | null {
  // Multibyte locales (GBK, Shift-JIS) can swallow an ASCII `\` or delimiter into a character.
  if (/[^\t\n\x20-\x7e]/.test(script)) return 'sed script has a character outside printable ASCII';
  const s = script;
  let i = 0;
  const EOF = '';
  const inchar = (): string => (i < s.length ? (s[i++] as string) : EOF);
  const savchar = (ch: string): void => {
    if (ch !== EOF) i--;
  };
  const blank = (c: string): boolean => c === ' ' || c === '\t';
  const digit = (c: string): boolean => c >= '0' && c <= '9';
  const inNonblank = (): string => {
    let c: string;
    do c = inchar();
    while (blank(c));
    return c;
  };
  const inInteger = (first: string): void => {
    let c = first;
    while (digit(c)) c = inchar();
    savchar(c);
  };

  /**
   * snarf_char_class(), restricted: after `[`, an optional `^`, an optional literal `]`, then
   * plain characters and complete classes (`[:alpha:]`, `[.-.]`, `[=e=]`) up to `]`. Null when
   * the bracket closed; otherwise why it is refused. busybox sed ends a bracket at a class's
   * `]`, so after a class the delimiter and `\\` (which it would read outside the bracket) are refused.
   */
  const bracket = (delim: string): string | null => {
    let ch = inchar();
    if (ch === '^') ch = inchar();
    if (ch === ']') ch = inchar();
    let sawClass = false;
    for (; ; ch = inchar()) {
      if (ch === EOF || ch === '\n') return 'unterminated sed bracket expression';
      if (ch === ']') return null;
      if (ch === '[') {
        const open = inchar();
        if (open !== '.' && open !== ':' && open !== '=') return "sed bracket expression contains a '[' that starts no class";
        let c = inchar();
        while (/^[A-Za-z0-9_-]$/.test(c)) c = inchar();
        if (c !== open || inchar() !== ']') return 'sed bracket expression has a class GNU and busybox sed read differently';
        sawClass = true;
        continue;
      }
      if (sawClass && (ch === delim || ch === '\\')) {
        return `sed bracket expression has '${ch}' after a class (busybox sed would read it outside the bracket)`;
      }
    }
  };

  /** match_slash(): the text up to the unescaped `slash`; a regex skips bracket expressions. */
  const matchSlash = (slash: string, regex: boolean): string | null => {
    if (slash === EOF || slash === '\n' || slash === '\\') return `sed delimiter '${slash === '\n' ? '\\n' : slash}' is not supported`;
    for (;;) {
      let ch = inchar();
      if (ch === EOF || ch === '\n') return 'unterminated sed regex or replacement';
      if (ch === slash) return null;
      if (ch === '\\') {
        ch = inchar();
        if (ch === EOF) return 'unterminated sed regex or replacement';
      } else if (ch === '[' && regex) {
        const bad = bracket(slash);
        if (bad !== null) return bad;
      }
    }
  };

  /** compile_address(): true when an address was read; a string is a refusal. */
  const address = (first: string): boolean | string => {
    let ch = first;
    if (ch === '/' || ch === '\\') {
      if (ch === '\\') ch = inchar();
      const bad = matchSlash(ch, true);
      if (bad !== null) return bad;
      for (;;) {
        ch = inNonblank();
        if (ch !== 'I' && ch !== 'M') break;
      }
      savchar(ch);
      return true;
    }
    if (digit(ch)) {
      inInteger(ch);
      ch = inNonblank();
      if (ch === '~') inInteger(inNonblank());
      else savchar(ch);
      return true;
    }
    if (ch === '+' || ch === '~') {
      inInteger(inNonblank());
      return true;
    }
    return ch === '$';
  };

  /** read_end_of_cmd(): only blanks, then `;`, newline, `}` or `#`. */
  const endOfCommand = (cmd: string): string | null => {
    const ch = inNonblank();
    if (ch === '}' || ch === '#') savchar(ch);
    else if (ch !== EOF && ch !== '\n' && ch !== ';') return `extra characters after sed command '${cmd}'`;
    return null;
  };

  /**
   * read_label(): up to a blank, `;`, `}`, `#` or newline; the length, or why it is refused.
   * sed before 4.3 reads `}` and `#` as part of the label (`b x#;e id` runs `e id` there), so a
   * label ending at one of them is refused.
   */
  const label = (): number | string => {
    let ch = inNonblank();
    let n = 0;
    while (ch !== EOF && ch !== '\n' && !blank(ch) && ch !== ';' && ch !== '}' && ch !== '#') {
      ch = inchar();
      n++;
    }
    if (n > 0 && (ch === '}' || ch === '#')) return `sed label followed by '${ch}' (older GNU sed reads it as part of the label)`;
    savchar(ch);
    return n;
  };

  /** read_text() for a, i, c: to the first unescaped newline. */
  const text = (leadin: string): void => {
    if (leadin === EOF) return;
    let ch = inchar();
    while (ch !== EOF && ch !== '\n') {
      if (ch === '\\') ch = inchar();
      if (ch === EOF) return;
      ch = inchar();
    }
  };

  let blocks = 0;
  for (;;) {
    let ch: string;
    do ch = inchar();
    while (ch === ';' || /^\s$/.test(ch));
    if (ch === EOF) return blocks === 0 ? null : "sed '{' without '}'";
    const a1 = address(ch);
    if (typeof a1 === 'string') return a1;
    if (a1) {
      ch = inNonblank();
      if (ch === ',') {
        const a2 = address(inNonblank());
        if (typeof a2 === 'string') return a2;
        if (!a2) return 'sed address after , is missing';
        ch = inNonblank();
      }
    }
    if (ch === '!') {
      ch = inNonblank();
      if (ch === '!') return 'multiple ! in a sed address';
    }
    if (ch === EOF) return 'sed address without a command';
    if ('ewWrR'.includes(ch)) return `sed command '${ch}' runs commands or touches files`;
    seen?.push(ch);
    let bad: string | null = null;
    switch (ch) {
      case '#':
        if (a1) return 'sed comment after an address';
        while (ch !== EOF && ch !== '\n') ch = inchar();
        continue;
      case 'v': {
        const n = label();
        if (typeof n === 'string') return n;
        continue;
      }
      case '{':
        blocks++;
        break;
      case '}':
        if (a1) return 'sed } after an address';
        if (blocks-- === 0) return "sed '}' without '{'";
        bad = endOfCommand(ch);
        break;
      case 'a':
      case 'i':
      case 'c': {
        let t = inNonblank();
        if (t === EOF) return `sed ${ch} without text`;
        if (t === '\\') t = inchar();
        else {
          savchar(t);
          t = '\n';
        }
        text(t);
        break;
      }
      case ':': {
        if (a1) return 'sed label after an address';
        const n = label();
        if (typeof n === 'string') return n;
        if (n === 0) return 'sed : without a label';
        break;
      }
      case 'T':
      case 'b':
      case 't': {
        const n = label();
        if (typeof n === 'string') return n;
        break;
      }
      case 'Q':
      case 'q':
      case 'L':
      case 'l': {
        const n = inNonblank();
        if (digit(n)) inInteger(n);
        else savchar(n);
        bad = endOfCommand(ch);
        break;
      }
      case '=': case 'd': case 'D': case 'F': case 'g': case 'G': case 'h': case 'H': case 'n': case 'N': case 'p': case 'P':
      case 'z': case 'x':
        bad = endOfCommand(ch);
        break;
      case 's': {
        const slash = inchar();
        bad = matchSlash(slash, true) ?? matchSlash(slash, false);
        if (bad !== null) return `sed s command: ${bad}`;
        // mark_subst_opts(): flags may be separated by blanks.
        for (;;) {
          const f = inNonblank();
          if (f === 'e' || f === 'w') return `sed s///${f} flag runs commands or writes files`;
          if ('iImMpg'.includes(f) && f !== EOF) continue;
          if (digit(f)) {
            inInteger(f);
            continue;
          }
          if (f === '}' || f === '#') savchar(f);
          else if (f !== EOF && f !== '\n' && f !== ';') return `unknown sed s flag '${f}'`;
          break;
        }
        break;
      }
      case 'y': {
        const slash = inchar();
        const from = i;
        bad = matchSlash(slash, false) ?? matchSlash(slash, false);
        // busybox sed reads y's text with bracket expressions, GNU does not.
        if (bad === null && s.slice(from, i).includes('[')) bad = "sed y command containing '['";
        if (bad === null) bad = endOfCommand(ch);
        break;
      }
      default:
        return `unknown sed command '${ch}'`;
    }
    if (bad !== null) return bad;
  }
}
