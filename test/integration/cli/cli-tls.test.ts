/**
 * The CLI against a supervisor serving HTTPS (api.tls: true): it trusts exactly the
 * box's own certificate (<dataDir>/tls/cert.pem) — `status` works, and a server on the
 * same port with any other certificate gets no token: the CLI refuses to talk to it.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import t from 'tap';
import { startSupervisor } from '../../helpers/supervisorProcess.js';
import { freePort, scratchDir } from '../../helpers/util.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const c = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => c.once('close', (code) => resolve({ code, out, err })));
}

t.test('status over HTTPS, pinned to the box certificate', async (t) => {
  const { dir, cleanup } = await scratchDir('cli-tls');
  t.teardown(cleanup);
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    `box:\n  name: tls-box\n  dataDir: ${path.join(dir, 'data')}\n  hardware: simulated\n` +
      `api:\n  listen: 127.0.0.1\n  port: ${port}\n  tls: true\n` +
      `policy:\n  failbackHoldS: 600\n  holdDownS: 5\n  tickMs: 100\nsim:\n  reportMs: 200\n`,
  );
  const sup = await startSupervisor(file, port);
  const s = await cli(['status', '-c', file]);
  t.ok(s.code !== null && [0, 1, 2, 3].includes(s.code), `status answered with a state exit code (${s.code}; ${s.err.trim()})`);
  t.match(s.out, /route/i, 'and printed the route');
  await sup.kill('SIGTERM');

  // Another server on the same port, with a certificate of its own: the CLI must not send it the token.
  const keyFile = path.join(dir, 'other.key');
  const certFile = path.join(dir, 'other.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=impostor',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const seenAuth: string[] = [];
  const { readFileSync } = await import('node:fs');
  const impostor = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    seenAuth.push(req.headers.authorization ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((r) => impostor.listen(port, '127.0.0.1', () => r()));
  t.teardown(() => impostor.close());
  const r = await cli(['status', '-c', file]);
  t.match(r.err, /did not answer \(self-signed certificate\)/, `refused: ${r.err.trim()}`);
  t.not(r.code, 0, `and status does not report the box as normal (exit ${r.code})`);
  t.match(r.err, /https:\/\/127\.0\.0\.1/, 'the message names the HTTPS address');
  t.same(seenAuth, [], 'the impostor received no request, so no token');
});
