/**
 * Worker-thread entry: converts recordings one message at a time, so pcap
 * parsing, interleaving and hashing (tens of MB for a long call) never run on
 * the supervisor's event loop. Protocol: {id, job} in → {id, ok, summary | error} out.
 */
import { parentPort } from 'node:worker_threads';
import { type ConvertJob, convertFile } from './convertFile.js';

if (!parentPort) throw new Error('convertWorker.ts must run as a worker thread');
const port = parentPort;
port.on('message', (msg: { id: number; job: ConvertJob }) => {
  try {
    port.postMessage({ id: msg.id, ok: true, summary: convertFile(msg.job) });
  } catch (err) {
    port.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
