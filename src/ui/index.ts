/** The reviewer web UI's public surface; why: hosts import one module. */
export { createUiHandler, CSP } from './handler.js';
export type { UiDeps, UiHandler, UiStore } from './types.js';
