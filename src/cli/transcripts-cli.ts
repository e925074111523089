/**
 * `warden transcripts ...`: hands over to the command module with a store that is opened only
 * when a subcommand has parsed its arguments. Why lazy: a usage or argument error (a bare
 * `warden transcripts`, an unknown subcommand, a bad --limit) must not need a valid warden.yaml,
 * nor create the store's files as a side effect.
 */
import { existsSync } from 'node:fs';
import type { WardenStore } from '../recorder/index.js';
import { UsageError } from './args.js';
import { outputClosed } from './closed-output.js';
import { READ_SUBCOMMANDS, runTranscriptsCommand } from './transcripts-command.js';
import { stderrLine, stdoutLine } from './terminal-out.js';

/** Run `warden transcripts SUBCOMMAND` against the store of --config. */
export async function runTranscriptsCli(argv: string[]): Promise<number> {
  const rest: string[] = [];
  let configPath = 'warden.yaml';
  let configGiven = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--config') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError('--config needs a value');
      configPath = v;
      configGiven = true;
    } else if (a.startsWith('--config=')) {
      configPath = a.slice('--config='.length);
      configGiven = true;
    }
    else rest.push(a);
  }
  let store: WardenStore | undefined;
  const open = async (): Promise<WardenStore> => {
    if (store) return store;
    // Connection types only, not the tools: reading a store needs no parser (tools/connection-types.ts).
    const [{ connectionTypes }, { loadServerConfig }, { chainSigner, openConfiguredStore }] = await Promise.all([
      import('../../tools/connection-types.js'), import('../config/server-config.js'), import('../server/store-open.js'),
    ]);
    const config = loadServerConfig(configPath, connectionTypes);
    const signer = await chainSigner(config);
    // Reading subcommands never migrate, sign or write (an auditor's role may hold SELECT only).
    // adopt-head opens a store without a signed head, which every other writer refuses (recorder/head-adopt.ts).
    store = await openConfiguredStore(config, { readOnly: READ_SUBCOMMANDS.has(rest[0] ?? ''), adoptingHead: rest[0] === 'adopt-head', ...(signer ? { signer } : {}) });
    return store;
  };
  try {
    return await runTranscriptsCommand(rest, {
      store: open,
      json,
      // Hidden characters shown escaped at the write, whatever path the text took (terminal-out.ts).
      out: stdoutLine,
      err: stderrLine,
      // The reader of stdout left: replay --follow and export stop.
      signal: outputClosed,
      // `verify --file` needs no store, only the key: from --config, or ./warden.yaml when there is one.
      signer: async () => {
        if (!configGiven && !existsSync(configPath)) return undefined;
        const [{ connectionTypes }, { loadServerConfig }, { chainSigner }] = await Promise.all([
          import('../../tools/connection-types.js'), import('../config/server-config.js'), import('../server/store-open.js'),
        ]);
        return chainSigner(loadServerConfig(configPath, connectionTypes));
      },
    });
  } finally {
    await store?.close();
  }
}
