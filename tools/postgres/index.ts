/**
 * The postgres family: `type: postgres` connections, the `sql:` policy block, and its tools.
 */
import type { FamilyInstance, ToolFamily } from '../../src/tool-api.js';
import { postgresConnectionType, type PostgresConnection } from './config.js';
import { PgConnector } from './connector.js';
import { queryDatabaseTool } from './query-database.js';
import { describeDatabaseTool } from './describe-database.js';
import { sqlCondition } from './sql-condition.js';

/** The family plug-in registered in tools/index.ts. */
export const postgresFamily: ToolFamily = {
  ...postgresConnectionType,
  conditions: [sqlCondition],
  create(deps): FamilyInstance {
    const connectors = new Map<string, PgConnector>();
    const connectorFor = (name: string): PgConnector => {
      let c = connectors.get(name);
      if (!c) {
        const conf = deps.connections.find((x) => x.name === name && x.type === 'postgres');
        if (!conf) throw new Error(`no postgres connection ${name}`);
        c = new PgConnector(conf as unknown as PostgresConnection, deps.secrets, deps.log, deps.storeCluster);
        connectors.set(name, c);
      }
      return c;
    };
    // A write through one connection forgets every connection's catalog answers (they may share a database).
    const forgetAll = () => connectors.forEach((c) => c.forgetAfterWrite());
    return {
      tools: [queryDatabaseTool(connectorFor, forgetAll), describeDatabaseTool(connectorFor)],
      async close() {
        await Promise.all([...connectors.values()].map((c) => c.close()));
      },
    };
  },
};
