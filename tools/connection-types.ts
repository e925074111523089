/**
 * Every family's connection type, without its tools: what reading warden.yaml needs
 * (config/server-config.ts). Why apart from index.ts: the transcripts and approvals commands read
 * the config to find the store, and loading every tool with it (the shell and SQL parsers, the
 * policy conditions) cost each command most of a second. The same objects the families spread
 * into themselves, in the same order (test/config/connection-types.test.ts).
 */
import type { ConnectionType } from '../src/tool-api.js';
import { postgresConnectionType } from './postgres/config.js';
import { sshConnectionType } from './ssh/config.js';
import { kubernetesConnectionType } from './kubernetes/config.js';

/** Each family's `type:` and connection schema, in tools/index.ts's order. */
export const connectionTypes: readonly ConnectionType[] = [postgresConnectionType, sshConnectionType, kubernetesConnectionType];
