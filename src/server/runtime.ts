/**
 * Wires one Warden process: config, families, policy (compiled once, swapped atomically on
 * reload), transcript store, masking and the pipeline. Used by `serve`, `demo` and tests.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConditionSpec, FamilyInstance, GovernedTool, SecretResolver, ToolFamily } from '../tool-api.js';
import { ErrorCode, WardenError } from '../errors.js';
import { loadServerConfig, type ServerConfig } from '../config/server-config.js';
import { unmatchedPolicyPatterns } from '../config/policy-globs.js';
import { ConfigError } from '../config/yaml-source.js';
import { compilePolicy, type MaskingChecks } from '../policy/load.js';
import type { CompiledPolicy } from '../policy/types.js';
import { compileScanner, createMasker, STRATEGY_NAMES, type ScannerOptions } from '../masking/index.js';
import { policyScanner, webhookMask } from './policy-scanner.js';
import { createChainSigner, isPgUrl, openPgStore, openSqliteStore, openWorkerBackedStore, randomKey, type PgTranscriptStore, type WardenStore } from '../recorder/index.js';
import { resolveStoreSpec, secretsOf, storePath, storeWarning } from './store-open.js';
import type { TranscriptStore } from '../recorder/types.js';
import { namingConfig } from '../recorder/head-adopt.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import { listConnectionsTool } from '../pipeline/builtins/list-connections.js';
import { explainCallTool } from '../pipeline/builtins/explain-call.js';
import { approvalStatusTool } from '../pipeline/builtins/approval-status.js';
import { createApprovalService, createWebhookNotifier, type ApprovalReviewApi } from '../approvals/index.js';
import type { ApprovalGate } from '../pipeline/types.js';
import { createRateLimiter } from '../pipeline/rate-limit.js';
import { createSharedRateLimiter } from '../pipeline/rate-limit-shared.js';
import { log } from './log.js';
import { refuseDeadDenies } from './dead-denies.js';
import { restartOnlyChanges } from './config-drift.js';
import { loadOrCreateMaskingKey } from './masking-key.js';
import { pgUrlAddress } from '../pg-url-params.js';

/** A running core. */
export interface Runtime {
  config: ServerConfig;
  pipeline: Pipeline;
  store: TranscriptStore;
  policy(): CompiledPolicy;
  tools: GovernedTool<any, any>[];
  /** Reviewers' API over the approval requests in this runtime's store (CLI, HTTP, UI). */
  approvals?: ApprovalReviewApi;
  /** Recompile policies; on error keep the old policy and throw the ConfigError. */
  reload(): CompiledPolicy;
  /**
   * Recompile policies without swapping: `apply()` swaps. Why: the watcher compares the candidate
   * with the running policy and holds one that loses deny rules (policy-watch.ts). Throws as reload.
   */
  prepareReload(): { policy: CompiledPolicy; apply(): CompiledPolicy };
  /** warden.yaml sections changed on disk, as of the last reload, that apply only after a restart (config-drift.ts). */
  pendingRestart?(): string[];
  /**
   * `policies:` patterns of the warden.yaml last read, at start or by a reload (even one whose
   * policies then failed to compile). Why: the watcher follows them, so a file added under a new
   * folder, or a fix to the broken file there, reloads without a restart.
   */
  policyPatterns?(): string[];
  close(): Promise<void>;
}

/** Why the scanner refuses these options (without its "masking: " prefix), or null. */
function scannerProblem(opts: ScannerOptions): string | null {
  try {
    compileScanner(opts);
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^masking: /, '');
  }
}

/**
 * The masking module's names, checked by the policy loader entry by entry. Why here: src/policy
 * may not import src/masking, and run per entry every problem is reported at its own FILE:LINE.
 */
const MASKING_CHECKS: MaskingChecks = {
  strategy: (name) => (STRATEGY_NAMES.includes(name) ? null : `unknown masking strategy "${name}" (known: ${STRATEGY_NAMES.join(', ')})`),
  detector: (name) => scannerProblem({ detectors: [name] }),
  custom: (c) => scannerProblem({ detectors: [], custom: [c] }),
};

/** Compile policies for a config and check masking names; throws ConfigError. */
export function compileForConfig(config: ServerConfig, families: ToolFamily[]): CompiledPolicy {
  // Families may share a block (ssh and kubernetes both bring `shell:`): compile each key once.
  const conditions: ConditionSpec[] = [...new Map(families.flatMap((f) => f.conditions).map((c) => [c.key, c])).values()];
  const policy = compilePolicy(config.policyFiles, conditions, {}, MASKING_CHECKS);
  // Backstop only: every entry was checked at its own line above, so this should never fire.
  const problem = scannerProblem({ detectors: policy.masking.detectors, custom: policy.masking.custom });
  if (problem) throw new ConfigError([{ file: policy.files[0] ?? config.file, line: 0, path: 'masking', message: problem, severity: 'error' }]);
  return policy;
}

async function hashKey(config: ServerConfig, secrets: SecretResolver, dbPath: string, store?: WardenStore): Promise<string> {
  if (config.masking.hash_key) return secrets.resolve(config.masking.hash_key);
  // Replicas on a shared store share one key, kept in the store itself.
  if (store && 'sharedSetting' in store) return (store as unknown as { sharedSetting(n: string, c: () => string): Promise<string> }).sharedSetting('masking.hash_key', randomKey);
  // No configured key: one random key per deployment, kept beside the transcripts (stable across restarts).
  return loadOrCreateMaskingKey(resolve(dirname(dbPath), 'masking.key'), (message) => log('warn', message));
}

/** Start the core for a config file. */
export async function startRuntime(
  configPath: string,
  families: ToolFamily[],
  opts: { approvals?: (store: TranscriptStore) => ApprovalGate } = {},
): Promise<Runtime> {
  const config = loadServerConfig(configPath, families);
  let policy = compileForConfig(config, families);
  // A policies: pattern that matches nothing is a typo more often than a choice: say so at start.
  for (const w of unmatchedPolicyPatterns(config)) log('warn', 'policy pattern matches no file', { at: `${w.file}:${w.line}`, message: w.message });
  const storeUrl = await resolveStoreSpec(config);
  const pgStore = isPgUrl(storeUrl);
  const dbPath = pgStore ? resolve(config.baseDir, 'recordings', 'warden.db') : storePath({ ...config, transcripts: { ...config.transcripts, store: storeUrl } });
  const secrets = secretsOf(config);
  const signingPem = config.transcripts.signing_key ? await secrets.resolve(config.transcripts.signing_key) : undefined;
  // SQLite group-commits on this thread by default (measured faster on 2 cores: 0.57 vs 0.92 ms per
  // call sequentially, 12,276 vs 6,892 records/s with 16 callers); `writer: thread` moves hashing,
  // indexes and fsync to a writer thread, which pays off with more cores. A postgres:// store
  // (several replicas) group-commits over its own pool.
  // The store tells of trouble only a write finds (the key holder refusing to sign over a cut or
  // rewritten chain, recorder/head-refusal.ts) through this: logged once, reason only.
  const onWarning = storeWarning;
  const sqliteOpts = { synchronous: config.transcripts.synchronous, recoverInterrupted: true, onWarning };
  // A store with records but no signed head is refused (recorder/head-adopt.ts): the error names this config.
  const store: WardenStore = await (pgStore
    ? openPgStore(storeUrl, { recoverInterrupted: true, livenessGraceMs: config.transcripts.liveness_grace, onWarning, ...(signingPem ? { signer: createChainSigner(signingPem) } : {}) })
    : config.transcripts.writer === 'thread'
      ? openWorkerBackedStore(dbPath, { ...sqliteOpts, ...(signingPem ? { signingPem } : {}) })
      : Promise.resolve().then(() => openSqliteStore(dbPath, { ...sqliteOpts, ...(signingPem ? { signer: createChainSigner(signingPem) } : {}) }))
  ).catch((e: unknown) => { throw namingConfig(e, resolve(configPath)); }); // prettier-ignore
  // A server started on a chain already cut or rewritten without the key says so now, not at its
  // first write: the write path's own head check (one signature, one lookup; no chain walk),
  // logged once with `found: startup` (the first write then adds nothing). It warns and serves,
  // as a write that finds it does: new records are still hash-chained and recorded, the stale
  // signed head is kept as evidence (`transcripts head` shows STALE, verify fails), whereas
  // refusing to start would turn one tampering into an outage, mended by deleting the evidence.
  await store.checkHead().catch(async (e: unknown) => {
    await store.close();
    throw e;
  });
  // A PostgreSQL store's cluster (unread: every connection counts as on it): connections there must not open connections from SQL (tools/postgres/outbound-reach.ts).
  const storeCluster = 'clusterId' in store ? { systemIdentifier: await (store as PgTranscriptStore).clusterId().catch(() => null), address: pgUrlAddress(storeUrl) } : undefined;
  const instances: FamilyInstance[] = families.map((f) =>
    f.create({ connections: config.connections.filter((c) => c.type === f.connectionType), secrets, log, ...(storeCluster ? { storeCluster } : {}) }),
  );
  const masker = createMasker({ hashKey: await hashKey(config, secrets, dbPath, store) });
  const tools: GovernedTool<any, any>[] = [];
  const core = { policy: () => policy, connections: config.connections, tools: () => tools };
  const approvalService = createApprovalService(store.approvals, {
    policy: () => policy,
    personClaims: config.approvals.person_claims,
    // Notices leave Warden: the live policy's content detectors mask them first (policy-scanner.ts).
    notifier: createWebhookNotifier({ resolve: (ref) => secrets.resolve(ref), log, mask: webhookMask(() => policy) }),
  });
  tools.push(listConnectionsTool(core), explainCallTool(core, config.admins), approvalStatusTool(approvalService), ...instances.flatMap((i) => i.tools));
  const byFamily = families.map((family, i) => ({ family, tools: instances[i]!.tools }));
  const builtins = tools.filter((t) => t.connectionTypes === null).map((t) => t.name);
  try {
    refuseDeadDenies(policy, config.connections, byFamily, builtins);
  } catch (e) {
    await Promise.all(instances.map((i) => i.close().catch(() => undefined)));
    await store.close();
    throw e;
  }
  let pending: string[] = [];
  let patterns = config.policyPatterns;
  const pipeline = createPipeline({
    tools,
    connections: config.connections,
    policy: () => policy,
    store,
    masking: {
      apply: (v, s) => masker.apply(v, s),
      scanner: policyScanner,
    },
    approvals: opts.approvals ? opts.approvals(store) : approvalService,
    limits: { maxInputBytes: config.limits.max_input_bytes, maxResultBytes: config.limits.max_result_bytes, defaultTimeoutMs: 30_000, defaultMaxRows: 1000 },
    log,
    core,
    // On a PostgreSQL store the replicas (and stdio processes) sharing it share the counters too.
    rateLimiter: 'rateCounters' in store
      ? createSharedRateLimiter(() => config.rate_limits, (store as PgTranscriptStore).rateCounters)
      : createRateLimiter(() => config.rate_limits),
    readIntent: config.transcripts.read_intent,
  });
  function prepareReload(): { policy: CompiledPolicy; apply(): CompiledPolicy } {
    const nextConfig = loadServerConfig(configPath, families);
    patterns = nextConfig.policyPatterns;
    const next = compileForConfig(nextConfig, families);
    const drift = restartOnlyChanges(config, nextConfig);
    // The policy runs against the connections the server has (a change to warden.yaml's waits for
    // a restart): a deny on a renamed connection would cover nothing the server serves.
    refuseDeadDenies(next, config.connections, byFamily, builtins, drift.includes('connections') ? 'warden.yaml renames or adds connections, but they take effect only after a restart: until then the policy is judged against the running ones' : undefined);
    return {
      policy: next,
      apply() {
        pending = drift;
        policy = next;
        return next;
      },
    };
  }
  return {
    config,
    pipeline,
    store,
    tools,
    approvals: approvalService,
    policy: () => policy,
    prepareReload,
    reload: () => prepareReload().apply(),
    pendingRestart: () => [...pending],
    policyPatterns: () => [...patterns],
    async close() {
      await Promise.all(instances.map((i) => i.close().catch(() => undefined)));
      await store.close();
    },
  };
}
