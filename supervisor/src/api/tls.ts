/**
 * TLS for the web UI with a certificate generated on the box (`api.tls: true`).
 * There is no public name to get a CA-signed certificate for on a call centre's LAN,
 * so the box makes its own on first start with the `openssl` CLI and keeps it in the
 * data dir; the SHA-256 fingerprint is logged so it can be compared in the browser.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { FastifyServerFactory } from 'fastify';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  /** SHA-256 fingerprint, as browsers show it. */
  fingerprint: string;
  /** Whether this start generated the certificate. */
  generated: boolean;
}

const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

/** Names the certificate is valid for: loopback, the host name and the listen address. */
export function certificateNames(listen: string): string[] {
  const names = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', `DNS:${os.hostname()}`]);
  if (listen && listen !== '0.0.0.0' && listen !== '::') names.add(/^[\d.]+$|:/.test(listen) ? `IP:${listen}` : `DNS:${listen}`);
  return [...names];
}

/**
 * Returns the box's key and certificate from `dir`, generating them first when they
 * are missing or expire within 30 days.
 */
export function ensureSelfSignedCert(dir: string, opts: { commonName: string; listen: string; now?: number }): TlsMaterial {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const now = opts.now ?? Date.now();
  let generated = false;
  const usable = () => {
    if (!existsSync(keyFile) || !existsSync(certFile)) return false;
    const c = new X509Certificate(readFileSync(certFile));
    return Date.parse(c.validTo) - now > RENEW_BEFORE_MS;
  };
  if (!usable()) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '825',
          '-subj',
          `/CN=${opts.commonName.replace(/[/=]/g, '-')}`,
          '-addext',
          `subjectAltName=${certificateNames(opts.listen).join(',')}`,
          '-keyout',
          keyFile,
          '-out',
          certFile,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === 'ENOENT') throw new Error('api.tls is on but the openssl command is missing — install it (apt-get install openssl) or set api.tls: false');
      throw new Error(`generating the TLS certificate in ${dir} failed: ${e.stderr?.toString().trim() || e.message} — check that box.dataDir is writable`);
    }
    chmodSync(keyFile, 0o600);
    generated = true;
  }
  const cert = readFileSync(certFile);
  return { key: readFileSync(keyFile), cert, fingerprint: new X509Certificate(cert).fingerprint256, generated };
}

/** A Fastify server factory that serves HTTPS with the given material (HTTP/1.1, WebSocket upgrades included). */
export function httpsServerFactory(tls: Pick<TlsMaterial, 'key' | 'cert'>): FastifyServerFactory {
  return (handler) => {
    const server = createServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, handler);
    // https.Server has http.Server's request/upgrade API; Fastify and `ws` only use that part.
    return server as unknown as Server;
  };
}
