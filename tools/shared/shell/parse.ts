/**
 * Shell parser: a real bash grammar (tree-sitter-bash on web-tree-sitter) turned into
 * ShellFacts. Fail closed: any ERROR/MISSING node, any node type not handled (walker.ts),
 * NUL bytes or oversized input throw a WARDEN_PARSE error.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { parseError } from '../../../src/tool-api.js';
import type { ShellCommand, ShellConstruct, ShellFacts } from './types.js';
import { summarize } from './summary.js';
import { Walker } from './walker.js';
import { refuseBashOnly } from './posix-syntax.js';

/** Largest command line accepted, in bytes. Why: bounds parse time and refuses smuggling by bulk. */
export const MAX_SHELL_BYTES = 8 * 1024;

let parser: Parser | null = null;
let initializing: Promise<void> | null = null;

/** Load the wasm runtime and the bash grammar once. Why async: wasm instantiation is. */
export function initShellParser(): Promise<void> {
  if (parser !== null) return Promise.resolve();
  initializing ??= (async () => {
    const require = createRequire(import.meta.url);
    const runtime = require.resolve('web-tree-sitter/web-tree-sitter.wasm');
    const grammar = require.resolve('tree-sitter-bash/tree-sitter-bash.wasm');
    await Parser.init({ locateFile: () => runtime });
    const bash = await Language.load(grammar);
    const p = new Parser();
    p.setLanguage(bash);
    parser = p;
  })().catch((err: unknown) => {
    initializing = null;
    throw err;
  });
  return initializing;
}

/** Async convenience for callers that cannot guarantee init happened. */
export async function parseShellAsync(cmd: string): Promise<ShellFacts> {
  await initShellParser();
  return parseShell(cmd);
}

/**
 * Which shell reads the text. Why: bash and a POSIX sh (dash, the usual `sh` and login shell)
 * split some text into different commands; `posix` refuses what they read apart (posix-syntax.ts).
 */
export type ShellDialect = 'bash' | 'posix';

/**
 * Parse one command line (sync; call initShellParser first). Why sync: parse is in the hot path.
 * `dialect`: `bash` for the line Warden rebuilds (only its words reach a shell), `posix` for
 * text another shell runs as written and that may not be bash (`sh -c`, ssh's remote command).
 */
export function parseShell(cmd: string, dialect: ShellDialect = 'bash'): ShellFacts {
  if (parser === null) throw new Error('shell parser not initialised: await initShellParser() first');
  if (typeof cmd !== 'string') throw parseError('command must be a string');
  if (Buffer.byteLength(cmd, 'utf8') > MAX_SHELL_BYTES) throw parseError(`command longer than ${MAX_SHELL_BYTES} bytes`);
  if (cmd.includes('\0')) throw parseError('command contains a NUL byte');
  if (cmd.trim() === '') throw parseError('empty command');
  const tree = parser.parse(cmd);
  if (tree === null) throw parseError('shell parser returned no tree');
  try {
    const root = tree.rootNode;
    if (root.type !== 'program' || root.hasError) throw parseError('command is not valid shell syntax');
    if (dialect === 'posix') refuseBashOnly(root);
    const w = new Walker();
    const statements: Node[] = [];
    for (const child of root.children) {
      if (child === null) continue;
      if (child.isMissing || child.isError) throw parseError('command is not valid shell syntax');
      if (child.type === ';') continue;
      if (child.type === '&') w.construct('background');
      else if (child.type === 'comment') w.construct('comment');
      else if (child.isNamed) statements.push(child);
      else throw parseError(`unsupported token '${child.type}'`);
    }
    if (statements.length === 0) throw parseError('empty command');
    if (statements.length > 1) w.construct('list');
    for (const s of statements) w.visit(s, true);
    if (!w.commands.some((c) => c.program !== '')) throw parseError('no command found');
    return finish(w.commands, w.pipelines, [...w.found], 'line');
  } finally {
    tree.delete();
  }
}

/** Assemble facts (shared by the line, argv and sh -c paths). */
export function finish(commands: ShellCommand[], pipelines: number, constructs: ShellConstruct[], source: ShellFacts['source']): ShellFacts {
  const sorted = [...new Set(constructs)].sort();
  return { family: 'shell', summary: summarize(commands, pipelines, sorted), commands, pipelines, constructs: sorted, source };
}
