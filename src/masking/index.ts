/**
 * Public face of masking: column strategies (lineage masks) and content detectors (scanner).
 * The pipeline imports from here only; the files behind it may move.
 */
export { REDACTED, STRATEGY_NAMES, createMasker, partialMask, stringifyForMask } from './strategies.js';
export type { Masker, MaskerOptions } from './strategies.js';
export { DETECTOR_NAMES, placeholder } from './detectors.js';
export type { HitCounts } from './detectors.js';
export { compileScanner } from './scanner.js';
export type { CustomDetector, ScanResult, Scanner, ScannerOptions } from './scanner.js';
export { mergeHits, scanStreams, scanTable, scanValue } from './apply.js';
export { MAX_DEPTH, maskAny } from './walk.js';
export type { MaskText } from './walk.js';
export type { StreamsScanResult, TableScanResult, ValueScanResult } from './apply.js';
export { cardNumberValid, luhnValid, ssnValid } from './validators.js';
