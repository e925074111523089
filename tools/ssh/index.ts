/**
 * The ssh family: `type: ssh` connections (pinned host key, server-held key or password),
 * the shared `shell:` policy block, and the `ssh_run` tool.
 */
import type { FamilyInstance, ToolFamily } from '../../src/tool-api.js';
import { shellCondition } from '../shared/shell/index.js';
import { sshConnectionType, type SshConnection } from './config.js';
import { SshConnector } from './connector.js';
import { sshRunTool } from './ssh-run.js';

/** The family plug-in registered in tools/index.ts. */
export const sshFamily: ToolFamily = {
  ...sshConnectionType,
  conditions: [shellCondition],
  create(deps): FamilyInstance {
    const connectors = new Map<string, SshConnector>();
    const connectorFor = (name: string): SshConnector => {
      let c = connectors.get(name);
      if (!c) {
        const conf = deps.connections.find((x) => x.name === name && x.type === 'ssh');
        if (!conf) throw new Error(`no ssh connection ${name}`);
        c = new SshConnector(conf as unknown as SshConnection, deps.secrets, deps.log);
        connectors.set(name, c);
      }
      return c;
    };
    return {
      tools: [sshRunTool(connectorFor)],
      async close() {
        await Promise.all([...connectors.values()].map((c) => c.close()));
      },
    };
  },
};
