/**
 * `warden` command line: serve, demo, policy, transcripts. Every command takes --config
 * (default ./warden.yaml); commands that print data take --json (one JSON document on stdout).
 */
import { readFileSync } from 'node:fs';
import { families } from '../../tools/index.js';
import { startRuntime } from '../server/runtime.js';
import { serveOverStdio } from '../server/stdio.js';
import { log, setLogLevel } from '../server/log.js';
import { ConfigError } from '../config/yaml-source.js';
import { WardenError } from '../errors.js';
import { parseArgs, UsageError } from './args.js';
import { runPolicyCommand } from './policy-command.js';
import { runTranscriptsCli } from './transcripts-cli.js';
import { runDemo } from './demo.js';

/** The package version, for the MCP server info and --version. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `warden ${VERSION}: governed MCP access to databases, hosts and clusters

Usage:
  warden serve [--config warden.yaml]            serve MCP over stdio
  warden demo [--serve]                          embedded database, sample data, a scripted agent session
  warden policy check [--config F] [--json]      validate config and policies (FILE:LINE errors)
  warden transcripts list|show|verify [--config F] [--json]
  warden --version
`;

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
    case 'serve': {
      const a = parseArgs(rest, ['config=', 'http=']);
      if (a.flags.http) throw new UsageError('--http: the Streamable HTTP transport is not part of this build yet; use stdio');
      const rt = await startRuntime(String(a.flags.config ?? 'warden.yaml'), families);
      process.on('SIGHUP', () => {
        try {
          const p = rt.reload();
          log('info', 'policy reloaded', { policy_version: p.version });
        } catch (e) {
          log('error', 'policy reload failed; keeping the previous policy', { message: (e as Error).message });
        }
      });
      await serveOverStdio(rt, VERSION);
      return 0;
    }
    case 'demo':
      return runDemo(parseArgs(rest, ['serve', 'json', 'keep']), VERSION);
    case 'policy':
      return runPolicyCommand(rest);
    case 'transcripts':
      return runTranscriptsCli(rest);
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
      setLogLevel('error');
      process.stderr.write(`warden: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
