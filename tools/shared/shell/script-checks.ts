/**
 * Inspection of the small languages that allowed text tools embed: sed scripts and awk
 * programs can run commands or write files. Anything not understood counts as dangerous.
 */

/** Why a sed script is dangerous (e/w/W/r/R commands, e/w flags of s), or null if it is not. */
export function sedScriptDanger(script: string): string | null {
  const s = script;
  let i = 0;
  const skipAddrRegex = (): boolean => {
    const delim = s[i] === '\\' ? s[++i] : s[i];
    if (delim === undefined || delim === '\n') return false;
    i++;
    while (i < s.length && s[i] !== delim) i += s[i] === '\\' ? 2 : 1;
    if (i >= s.length) return false;
    i++;
    while (s[i] === 'I' || s[i] === 'M') i++;
    return true;
  };
  const skipAddress = (): boolean => {
    const c = s[i];
    if (c === undefined) return true;
    if (/[0-9]/.test(c)) {
      while (/[0-9~]/.test(s[i] ?? '')) i++;
    } else if (c === '$') i++;
    else if (c === '/' || c === '\\') return skipAddrRegex();
    else if (c === '+' || c === '~') {
      i++;
      while (/[0-9]/.test(s[i] ?? '')) i++;
    }
    return true;
  };
  const skipDelimited = (parts: number): boolean => {
    const delim = s[i];
    if (delim === undefined || delim === '\n' || delim === '\\') return false;
    i++;
    for (let p = 0; p < parts; p++) {
      while (i < s.length && s[i] !== delim) i += s[i] === '\\' ? 2 : 1;
      if (i >= s.length) return false;
      i++;
    }
    return true;
  };
  const toEol = (stopAtSemicolon: boolean): void => {
    while (i < s.length && s[i] !== '\n' && !(stopAtSemicolon && s[i] === ';')) i += s[i] === '\\' ? 2 : 1;
  };
  while (i < s.length) {
    while (/[\s;]/.test(s[i] ?? '')) i++;
    if (i >= s.length) return null;
    if (!skipAddress()) return 'unterminated sed address';
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === ',') {
      i++;
      while (s[i] === ' ') i++;
      if (!skipAddress()) return 'unterminated sed address';
    }
    while (s[i] === ' ' || s[i] === '!') i++;
    const cmd = s[i++];
    if (cmd === undefined) return 'sed address without a command';
    if ('ewWrR'.includes(cmd)) return `sed command '${cmd}' runs commands or touches files`;
    if ('{}pPnNdDgGhHxz=F'.includes(cmd)) continue;
    if (cmd === '#' || 'aic'.includes(cmd)) toEol(false);
    else if (':btTv'.includes(cmd)) toEol(true);
    else if ('qQlL'.includes(cmd)) while (/[0-9 ]/.test(s[i] ?? '')) i++;
    else if (cmd === 'y') {
      if (!skipDelimited(2)) return 'unterminated sed y command';
    } else if (cmd === 's') {
      if (!skipDelimited(2)) return 'unterminated sed s command';
      while (i < s.length && !/[\s;}]/.test(s[i] as string)) {
        const f = s[i] as string;
        if (f === 'e' || f === 'w' || f === 'W') return `sed s///${f} flag runs commands or writes files`;
        if (!/[gpiImM0-9]/.test(f)) return `unknown sed s flag '${f}'`;
        i++;
      }
    } else return `unknown sed command '${cmd}'`;
  }
  return null;
}

/** Sed options: scripts given with -e/--expression, or the first operand. Dangerous options named. */
export function sedDanger(args: string[]): string | null {
  const scripts: string[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, value] = [a.slice(2).split('=', 1)[0] as string, a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined];
      if (name.length > 0 && ('in-place'.startsWith(name) || 'file'.startsWith(name))) return `sed --${name} edits or reads files`;
      if (name.length > 0 && 'expression'.startsWith(name)) scripts.push(value ?? args[++i] ?? '');
      else if (name.length > 0 && 'line-length'.startsWith(name) && value === undefined) i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const ch = a[k] as string;
        if (ch === 'i' || ch === 'f') return `sed -${ch} edits or reads files`;
        if (ch === 'e' || ch === 'l') {
          const v = k + 1 < a.length ? a.slice(k + 1) : (args[++i] ?? '');
          if (ch === 'e') scripts.push(v);
          break;
        }
      }
      continue;
    }
    operands.push(a);
  }
  if (scripts.length === 0) {
    if (operands[0] === undefined) return 'sed without a script';
    scripts.push(operands[0]);
  }
  for (const sc of scripts) {
    const d = sedScriptDanger(sc);
    if (d !== null) return d;
  }
  return null;
}

const AWK_DANGER = /system|getline|\||@|\bprintf?\b[^;{}\n]*>|\bENVIRON\b.*\bsystem/;

/** Awk: program files/extensions are refused; every other word is checked for command escapes. */
export function awkDanger(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      for (const w of args.slice(i + 1)) if (AWK_DANGER.test(w)) return 'awk program runs commands or writes files (system, |, getline, print >)';
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const name = a.slice(2).split('=', 1)[0] as string;
      if (['file', 'exec', 'include', 'load'].some((n) => n.startsWith(name))) return `awk --${name} loads program code from a file`;
    } else if (a.startsWith('-') && a.length > 1 && /^-[fEil]/.test(a)) {
      return `awk ${a.slice(0, 2)} loads program code from a file`;
    }
    if (AWK_DANGER.test(a)) return 'awk program runs commands or writes files (system, |, getline, print >)';
  }
  return null;
}
