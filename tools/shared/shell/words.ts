/**
 * Word normalisation: turn a tree-sitter word node into the exact string bash would pass
 * to the program, or record why it cannot be known statically.
 */
import type { Node } from 'web-tree-sitter';
import { parseError } from '../../../src/tool-api.js';
import type { ShellConstruct } from './types.js';

/** Callbacks into the tree walker. Why: expansions hide commands that deny rules must see. */
export interface WordSink {
  construct(c: ShellConstruct): void;
  /** Walk a nested construct subtree (collects its commands and constructs). */
  walk(node: Node): void;
}

const DYNAMIC: Record<string, ShellConstruct> = {
  simple_expansion: 'parameter_expansion',
  expansion: 'parameter_expansion',
  command_substitution: 'command_substitution',
  process_substitution: 'process_substitution',
  arithmetic_expansion: 'arithmetic_expansion',
  brace_expression: 'brace_expansion',
  translated_string: 'translated_string',
  extglob_pattern: 'glob',
};

/** A redirection's file as bash opens it, or its raw text where a part is computed (decoded apart from the walk, which sees its parts once). */
export function redirectTarget(node: Node): string {
  try {
    return decodeWord(node, { construct: () => undefined, walk: () => undefined }).value;
  } catch {
    return node.text;
  }
}

/**
 * Decode one word node. Returns the literal value and whether it is fully static;
 * a non-static word keeps its raw text and the reason is recorded as a construct.
 */
export function decodeWord(node: Node, sink: WordSink): { value: string; plain: boolean } {
  const dynamic = DYNAMIC[node.type];
  if (dynamic !== undefined) {
    sink.construct(dynamic);
    sink.walk(node);
    return { value: node.text, plain: false };
  }
  switch (node.type) {
    case 'word':
    case 'number':
      return decodeUnquoted(node.text, sink);
    case 'raw_string': {
      const t = node.text;
      if (t.length < 2 || !t.startsWith("'") || !t.endsWith("'")) throw parseError('malformed single-quoted string');
      return { value: t.slice(1, -1), plain: true };
    }
    case 'ansi_c_string':
      return { value: decodeAnsiC(node.text), plain: true };
    case 'string':
      return decodeDoubleQuoted(node, sink);
    case 'concatenation': {
      let value = '';
      let plain = true;
      let at = node.startIndex;
      for (const child of node.children) {
        if (child === null) continue;
        if (child.startIndex !== at) throw parseError('unsupported spelling inside a word (line continuation?)');
        at = child.endIndex;
        if (!child.isNamed) throw parseError(`unsupported token '${child.type}' inside a word`);
        const part = decodeWord(child, sink);
        value += part.value;
        plain = plain && part.plain;
      }
      if (at !== node.endIndex) throw parseError('unsupported spelling at the end of a word');
      return { value, plain };
    }
    default:
      throw parseError(`unsupported shell word of type '${node.type}'`, { node: node.type });
  }
}

/** Unquoted text: resolve backslashes, record globs, tildes and braces that bash would expand. */
function decodeUnquoted(text: string, sink: WordSink): { value: string; plain: boolean } {
  let value = '';
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined || next === '\n' || next === '\r') throw parseError('line continuation or trailing backslash inside a word');
      value += next;
      i++;
      continue;
    }
    if (ch === '*' || ch === '?' || ch === '[' || ch === ']') {
      sink.construct('glob');
      plain = false;
    } else if (ch === '~') {
      sink.construct('tilde');
      plain = false;
    } else if (ch === '{' || ch === '}') {
      sink.construct('brace_expansion');
      plain = false;
    } else if ('$`\'"()<>;&|\n\r'.includes(ch) || ch === '\t' || ch === ' ') {
      throw parseError(`unexpected '${ch}' inside an unquoted word`);
    }
    value += ch;
  }
  return { value, plain };
}

/** Double quotes: only \$ \` \" \\ and \newline are escapes; expansions stay dynamic. */
function decodeDoubleQuoted(node: Node, sink: WordSink): { value: string; plain: boolean } {
  const kids = node.children.filter((c): c is Node => c !== null);
  const first = kids[0];
  const last = kids[kids.length - 1];
  if (kids.length < 2 || first?.type !== '"' || last?.type !== '"') throw parseError('malformed double-quoted string');
  let value = '';
  let plain = true;
  let at = first.endIndex;
  for (const child of kids.slice(1, -1)) {
    if (child.startIndex !== at) throw parseError('unsupported spelling inside a double-quoted string');
    at = child.endIndex;
    if (child.type === 'string_content') {
      value += decodeDqContent(child.text);
      continue;
    }
    if (!child.isNamed || DYNAMIC[child.type] === undefined) {
      throw parseError(`unsupported token '${child.type}' inside a double-quoted string`);
    }
    const part = decodeWord(child, sink);
    value += part.value;
    plain = false;
  }
  if (at !== last.startIndex) throw parseError('unsupported spelling at the end of a double-quoted string');
  return { value, plain };
}

function decodeDqContent(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const next = text[i + 1];
    if (ch === '\\' && next !== undefined && '$`"\\\n'.includes(next)) {
      if (next !== '\n') out += next;
      i++;
      continue;
    }
    if (ch === '$' || ch === '`') throw parseError(`unexpected '${ch}' inside a double-quoted string`);
    out += ch;
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
  '\\': '\\', "'": "'", '"': '"', '?': '?',
};

/**
 * Decode bash `$'..'`. Refuses NUL (bash truncates there), `\c` control escapes and raw
 * bytes >= 0x80 (their meaning depends on the host's locale).
 */
export function decodeAnsiC(text: string): string {
  if (!text.startsWith("$'") || !text.endsWith("'") || text.length < 3) throw parseError("malformed $'..' string");
  const body = text.slice(2, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) throw parseError("trailing backslash in $'..' string");
    i++;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    let code: number;
    let m: RegExpMatchArray | null;
    const rest = body.slice(i);
    if ((m = /^[0-7]{1,3}/.exec(rest)) !== null) {
      code = parseInt(m[0], 8);
      i += m[0].length - 1;
      if (code >= 0x80) throw parseError("raw byte escape >= 0x80 in $'..' string");
    } else if ((m = /^x([0-9a-fA-F]{1,2})/.exec(rest)) !== null) {
      code = parseInt(m[1] as string, 16);
      i += m[0].length - 1;
      if (code >= 0x80) throw parseError("raw byte escape >= 0x80 in $'..' string");
    } else if ((m = /^u([0-9a-fA-F]{1,4})/.exec(rest)) !== null || (m = /^U([0-9a-fA-F]{1,8})/.exec(rest)) !== null) {
      code = parseInt(m[1] as string, 16);
      i += m[0].length - 1;
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw parseError("invalid unicode escape in $'..' string");
    } else {
      throw parseError(`unsupported escape '\\${e}' in $'..' string`);
    }
    if (code === 0) throw parseError("NUL escape in $'..' string");
    out += String.fromCodePoint(code);
  }
  return out;
}
