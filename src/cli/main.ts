/**
 * `warden` command line: serve, demo, policy, approvals, transcripts. Every command takes
 * --config (default ./warden.yaml); commands that print data take --json (one JSON document on
 * stdout). Command modules load lazily, so `--version` and `help` start instantly and a stdio
 * server loads only what serving needs. `warden CMD [SUB] --help` prints that command's usage
 * (usage.ts) before anything is loaded, read or opened; a usage error prints it on stderr (exit 2).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/yaml-source.js';
import { WardenError } from '../errors.js';
import { parseArgs, UsageError } from './args.js';
import { exitCode, handleClosedOutput } from './closed-output.js';
import { helpFor, helpRequested, isCommand, summary, usage } from './usage.js';
import { stderrLine } from './terminal-out.js';

/** The package version, for the MCP server info and --version. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = summary(VERSION);

async function serve(rest: string[]): Promise<number> {
  const a = parseArgs(rest, ['config=', 'http=']);
  if (a.positionals.length) throw new UsageError(`unexpected argument "${a.positionals[0]}"`);
  const [{ families }, { startRuntime }, { log }] = await Promise.all([import('../../tools/index.js'), import('../server/runtime.js'), import('../server/log.js')]);
  const rt = await startRuntime(String(a.flags.config ?? 'warden.yaml'), families);
  if (typeof a.flags.http === 'string') {
    const { serveHttpWithUi } = await import('./serve-http.js');
    await serveHttpWithUi(rt, a.flags.http, VERSION);
    return 0;
  }
  const [{ watchPolicies }, { serveOverStdio }] = await Promise.all([import('../server/policy-watch.js'), import('../server/stdio.js')]);
  const stopWatching = watchPolicies(rt, log);
  try {
    await serveOverStdio(rt, VERSION);
  } finally {
    stopWatching();
  }
  return 0;
}

async function run(cmd: string | undefined, rest: string[]): Promise<number> {
  switch (cmd) {
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    case 'help':
      // `warden help COMMAND`: that command's usage.
      if (rest.length && !isCommand(rest[0])) throw new UsageError(`no help for "${rest[0]}"`);
      process.stdout.write(isCommand(rest[0]) ? helpFor(rest[0], rest.slice(1)) : HELP);
      return 0;
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'serve':
      return serve(rest);
    case 'demo': {
      const a = parseArgs(rest, ['serve', 'json', 'keep', 'config=']);
      if (a.positionals.length) throw new UsageError(`unexpected argument "${a.positionals[0]}"`);
      return (await import('./demo.js')).runDemo(a, VERSION);
    }
    case 'policy':
      return (await import('./policy-command.js')).runPolicyCommand(rest);
    case 'approvals':
      return (await import('./approvals-command.js')).runApprovalsCommand(rest);
    case 'transcripts':
      return (await import('./transcripts-cli.js')).runTranscriptsCli(rest);
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (isCommand(cmd) && helpRequested(rest)) {
    process.stdout.write(helpFor(cmd, rest));
    return 0;
  }
  try {
    return await run(cmd, rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    stderrLine(`warden: ${e.message}\n\n${isCommand(cmd) ? usage(cmd) + '\n' : HELP}`);
    return 2;
  }
}

// `serve` over stdio: stdout is the MCP transport, whose own close handling decides (stdio.ts).
if (process.argv[2] !== 'serve') handleClosedOutput();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = exitCode(code);
  },
  (e: unknown) => {
    if (e instanceof ConfigError) {
      stderrLine(`warden: configuration error\n${e.message}`);
    } else if (e instanceof WardenError) {
      stderrLine(`warden: ${e.code}: ${e.message}`);
    } else {
      stderrLine(`warden: ${(e as Error)?.stack ?? String(e)}`);
    }
    process.exitCode = exitCode(1);
  },
);
