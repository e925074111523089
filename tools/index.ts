/**
 * The registry of protocol families. Adding a protocol means adding a folder under tools/ and
 * one line here; the pipeline does not change.
 */
import type { ToolFamily } from '../src/tool-api.js';
import { postgresFamily } from './postgres/index.js';
import { kubernetesFamily } from './kubernetes/index.js';
import { sshFamily } from './ssh/index.js';

/** Every family Warden ships. */
export const families: ToolFamily[] = [postgresFamily, sshFamily, kubernetesFamily];
