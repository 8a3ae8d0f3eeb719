/**
 * One request from the CLI to the local supervisor's API, over HTTP or — with
 * `api.tls: true` — HTTPS that trusts exactly the box's own certificate
 * (<dataDir>/tls/cert.pem, which the supervisor generated): no system CA and no
 * "insecure" switch, so a process that took the port without that key cannot
 * answer. Host names are not checked against the certificate: the CLI talks to a
 * loopback or listen address it took from the config, and the pin is the check.
 *
 * Guarantees: resolves with the status and body text, or rejects with an Error
 * that names the address; never waits longer than `timeoutMs` in all.
 */
import http from 'node:http';
import https from 'node:https';

export interface ApiRequest {
  host: string;
  port: number;
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** PEM of the box's certificate: HTTPS pinned to it. Absent: plain HTTP. */
  pinnedCert?: Buffer;
}

export function apiRequest(r: ApiRequest): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const options = {
      host: r.host.replace(/^\[|\]$/g, ''),
      port: r.port,
      path: r.path,
      method: r.method,
      headers: { ...r.headers, ...(r.body !== undefined ? { 'content-length': String(Buffer.byteLength(r.body)) } : {}) },
      agent: false as const,
      signal: AbortSignal.timeout(r.timeoutMs),
    };
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = r.pinnedCert
      ? https.request({ ...options, ca: r.pinnedCert, checkServerIdentity: () => undefined }, onResponse)
      : http.request(options, onResponse);
    req.on('error', reject);
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}
