/**
 * The kubernetes family: `type: kubernetes` connections, the `kubernetes:` policy block (and
 * the shared `shell:` block, which also judges kubectl_exec), and its three tools.
 */
import type { FamilyInstance, ToolFamily } from '../../src/tool-api.js';
import { shellCondition } from '../shared/shell/index.js';
import { kubernetesConnectionType, type KubernetesConnection } from './config.js';
import { kubernetesCondition } from './condition.js';
import { KubeConnector } from './connector.js';
import { kubectlExecTool } from './kubectl-exec.js';
import { kubectlGetTool } from './kubectl-get.js';
import { kubectlLogsTool } from './kubectl-logs.js';

/** The family plug-in registered in tools/index.ts. */
export const kubernetesFamily: ToolFamily = {
  ...kubernetesConnectionType,
  conditions: [kubernetesCondition, shellCondition],
  create(deps): FamilyInstance {
    const connectors = new Map<string, KubeConnector>();
    const connectorFor = (name: string): KubeConnector => {
      let c = connectors.get(name);
      if (!c) {
        const conf = deps.connections.find((x) => x.name === name && x.type === 'kubernetes');
        if (!conf) throw new Error(`no kubernetes connection ${name}`);
        c = new KubeConnector(conf as unknown as KubernetesConnection, deps.secrets);
        connectors.set(name, c);
      }
      return c;
    };
    return {
      tools: [kubectlExecTool(connectorFor), kubectlGetTool(connectorFor), kubectlLogsTool(connectorFor)],
      async close() {
        await Promise.all([...connectors.values()].map((c) => c.close()));
      },
    };
  },
};
