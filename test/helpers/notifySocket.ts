/**
 * A stand-in for systemd's notify socket: a real unix datagram socket (python3, since Node
 * has none) that records every sd_notify message — what `systemd-notify` sends to
 * $NOTIFY_SOCKET. It answers systemd-notify's barrier (BARRIER=1 with a pipe fd: closing
 * the fd says "processed") as systemd does, so systemd-notify returns at once.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './util.js';

const SERVER = `
import json, os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
print(json.dumps({"listening": path}), flush=True)
while True:
    msg, fds, flags, addr = socket.recv_fds(s, 65536, 16)
    for fd in fds:
        os.close(fd)
    fields = [l for l in msg.decode("utf-8", "replace").split("\\n") if l]
    if fields == ["BARRIER=1"]:
        continue
    print(json.dumps({"fields": fields}), flush=True)
`;

export interface NotifyMessage {
  /** Arrival order. */
  n: number;
  fields: string[];
  has(field: string): boolean;
  /** The value of KEY=…, if present. */
  get(key: string): string | undefined;
}

export interface NotifySocket {
  path: string;
  messages: NotifyMessage[];
  /** Waits for the first message after index `from` that matches. */
  next(match: (m: NotifyMessage) => boolean, opts?: { from?: number; timeoutMs?: number; what?: string }): Promise<NotifyMessage>;
  /**
   * Sends a marker of its own through the same socket and waits for it: every message sent
   * before has then been received (a unix datagram socket keeps order). Markers are not in `messages`.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function startNotifySocket(): Promise<NotifySocket> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vaktpost-notify-'));
  const sockPath = path.join(dir, 'notify');
  const child: ChildProcess = spawn('python3', ['-c', SERVER, sockPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages: NotifyMessage[] = [];
  const markers = new Set<string>();
  let markerN = 0;
  let listening = false;
  let buf = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const j = JSON.parse(line) as { listening?: string; fields?: string[] };
      if (j.listening) listening = true;
      const marker = j.fields?.find((f) => f.startsWith('VAKTPOST_TEST_SYNC='));
      if (marker) markers.add(marker);
      else if (j.fields) {
        const fields = j.fields;
        messages.push({
          n: messages.length,
          fields,
          has: (f) => fields.includes(f),
          get: (k) => fields.find((f) => f.startsWith(`${k}=`))?.slice(k.length + 1),
        });
      }
      i = buf.indexOf('\n');
    }
  });
  await waitFor(() => (child.exitCode !== null ? Promise.reject(new Error(`notify socket helper exited: ${err}`)) : listening || null), {
    timeoutMs: 10_000,
    what: 'the python3 notify socket',
  });
  return {
    path: sockPath,
    messages,
    next(match, opts = {}) {
      return waitFor(() => messages.slice(opts.from ?? 0).find(match) ?? null, {
        timeoutMs: opts.timeoutMs ?? 20_000,
        intervalMs: 20,
        what: opts.what ?? 'a notify message',
      });
    },
    async sync() {
      const marker = `VAKTPOST_TEST_SYNC=${++markerN}`;
      await new Promise<void>((resolve, reject) =>
        execFile('systemd-notify', [marker], { env: { ...process.env, NOTIFY_SOCKET: sockPath } }, (err) => (err ? reject(err) : resolve())),
      );
      await waitFor(() => markers.has(marker), { timeoutMs: 10_000, intervalMs: 10, what: 'the sync marker' });
    },
    async close() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
