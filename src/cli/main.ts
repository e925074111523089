/**
 * `warden` command line: serve, demo, policy, approvals, transcripts. Every command takes
 * --config (default ./warden.yaml); commands that print data take --json (one JSON document on
 * stdout). Command modules load lazily, so `--version` and `help` start instantly and a stdio
 * server loads only what serving needs.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/yaml-source.js';
import { WardenError } from '../errors.js';
import { parseArgs, UsageError } from './args.js';

/** The package version, for the MCP server info and --version. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `warden ${VERSION}: governed MCP access to databases, hosts and clusters

Usage:
  warden serve [--config warden.yaml] [--http HOST:PORT]   MCP over stdio, or Streamable HTTP (reviewer UI under /ui)
  warden demo [--serve] [--config NEW_FILE] [--json]       embedded database, sample data, a scripted agent session
  warden policy check|test|explain|schema ...              validate, test and explain policies (FILE:LINE errors)
  warden approvals list|show|approve|deny [ID] [--comment TEXT] [--as SUBJECT --groups g1,g2 | --token JWT]
  warden transcripts list|show|replay|verify|head|export|purge ...
  warden --version

Every command takes --config FILE (default ./warden.yaml); commands that print data take --json.
`;

async function serve(rest: string[]): Promise<number> {
  const a = parseArgs(rest, ['config=', 'http=']);
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

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'serve':
      return serve(rest);
    case 'demo':
      return (await import('./demo.js')).runDemo(parseArgs(rest, ['serve', 'json', 'keep', 'config=']), VERSION);
    case 'policy':
      return (await import('./policy-command.js')).runPolicyCommand(rest);
    case 'approvals':
      return (await import('./approvals-command.js')).runApprovalsCommand(rest);
    case 'transcripts':
      return (await import('./transcripts-cli.js')).runTranscriptsCli(rest);
    default:
      throw new UsageError(`unknown command "${cmd}"\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`warden: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof ConfigError) {
      process.stderr.write(`warden: configuration error\n${e.message}\n`);
      process.exitCode = 1;
    } else if (e instanceof WardenError) {
      process.stderr.write(`warden: ${e.code}: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`warden: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
