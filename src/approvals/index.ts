/** The approvals module's public surface; why: the pipeline, server, CLI and UI import one module. */
export { createApprovalService } from './service.js';
export type { ApprovalService, ApprovalServiceOptions, GateInput, GateResult } from './service.js';
export type { ApprovalCombination, ApprovalReviewApi, ApprovalView, QueueEntry } from './review-api.js';
export type { DecisionRefusal } from './decision-refusal.js';
export { createWebhookNotifier, escapeSlack, jsonBody, slackBody, slackCode } from './notifier.js';
export type { ApprovalNotice, Notifier, NotifierOptions, NotifySpec } from './notifier.js';
export { canonicalCall, connectionDigest } from './canonical.js';
export { CONFIRM_SCHEMA, confirmMessage } from './confirm.js';
export { lookalikeWarning, reviewable, reviewableValue } from './reviewable.js';
export { sameSubject, subjectKey } from './subjects.js';
export { approvalsCount, combinationLine, humanDuration, requesterLabel, reviewersLabel, toView, voidedLine, waitingLine, withCombination } from './views.js';
export { actingFor, actorChain, isDelegated } from './actors.js';
