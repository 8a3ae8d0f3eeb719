/** The vaktpost node module: Node-RED calls this once with its node API. */
import type { RedApi } from '../red.js';
import { registerDeviation } from './deviation.js';
import { registerRoute } from './route.js';
import { registerSignal } from './signal.js';
import { registerStatus } from './status.js';

function vaktpostNodes(RED: RedApi): void {
  registerSignal(RED);
  registerStatus(RED);
  registerRoute(RED);
  registerDeviation(RED);
}

export = vaktpostNodes;
