/** The recorder's public surface; why: callers import one module, not its files. */
export { openSqliteStore } from './sqlite-open.js';
export { openWorkerBackedStore } from './worker-store.js';
export type { WorkerStoreOptions } from './worker-store.js';
export type { SqliteStoreOptions, SqliteTranscriptStore } from './sqlite-open.js';
export { canonicalJson } from './canonical-json.js';
export { GENESIS_HASH, RECORD_KINDS, recordHash } from './hash-chain.js';
export type { RecordKind } from './hash-chain.js';
export { SCHEMA_VERSION } from './sqlite-schema.js';
export { createChainSigner, headPath } from './signing.js';
export type { ChainSigner } from './signing.js';
export type { StoreWarning } from './head-refusal.js';
export { ApprovalTables } from './sqlite-approvals.js';
export type { ApprovalDecisionRow, ApprovalListFilter, ApprovalRow, ApprovalState, ApprovalStore, ConsumeResult, CreateGuard, CreateOutcome, Decided, Expired, NewApproval, Recorded, VoidReason } from './approval-store.js';
export { APPROVAL_STATES } from './approval-store.js';
export type { CallBinding, ConsumeRefusal } from './approval-rules.js';
export { approvingPersons, asSettledAt } from './approval-rules.js';
export type {
  CallFilter, CallIntent, CallOutcome, CallRecord, ChainRecord, RecoveryResult, SessionFilter, SessionRecord,
  SessionStart, TranscriptStore, VerifyResult, PurgeResult, SessionPage, SessionSearch, SignedHead,
} from './types.js';
export { isPgUrl, openPgStore, randomKey } from './pg-open.js';
export type { PgStoreOptions, PgTranscriptStore, WardenStore } from './pg-open.js';
export type { RateCounterStore, RateRefusal, RateScope, RateScopeLimits } from './pg-rate-counters.js';
export { AtRestRefusal, makePrivateDir, PRIVATE_FILE_MODE, readPrivateFile } from './at-rest.js';
