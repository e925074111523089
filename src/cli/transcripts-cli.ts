/**
 * `warden transcripts ...`: opens the configured store and hands over to the command module.
 */
import { families } from '../../tools/index.js';
import { loadServerConfig } from '../config/server-config.js';
import { chainSigner, openConfiguredStore } from '../server/runtime.js';
import { runTranscriptsCommand } from './transcripts-command.js';

/** Run `warden transcripts SUBCOMMAND` against the store of --config. */
export async function runTranscriptsCli(argv: string[]): Promise<number> {
  const rest: string[] = [];
  let configPath = 'warden.yaml';
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--config') configPath = argv[++i] ?? configPath;
    else if (a.startsWith('--config=')) configPath = a.slice('--config='.length);
    else rest.push(a);
  }
  const config = loadServerConfig(configPath, families);
  const signer = await chainSigner(config);
  const store = await openConfiguredStore(config, signer ? { signer } : {});
  try {
    return await runTranscriptsCommand(rest, {
      store,
      json,
      out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
      err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
    });
  } finally {
    await store.close();
  }
}
