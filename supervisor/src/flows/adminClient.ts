/**
 * Talks to Node-RED's admin API over its unix socket (the deploys Vaktpost makes
 * itself: first start, rollback, dry-run). The editor's own requests are proxied by
 * api/flowsRoutes.ts over the same socket.
 */
import http from 'node:http';

export interface AdminResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export function adminRequest(
  socketPath: string,
  method: string,
  urlPath: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path: urlPath,
        headers: {
          host: 'localhost',
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`Node-RED admin API did not answer ${method} ${urlPath} within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? new Error(`the flows runtime is not listening on ${socketPath} (${err.code}) — is the Node-RED child running? see /api/flows/status`)
          : err,
      ),
    );
    req.end(body);
  });
}

/** A full deploy of a flow configuration (the v1 array form). Resolves with Node-RED's revision. */
export async function deployFlows(socketPath: string, adminRoot: string, flows: unknown[], type: 'full' | 'nodes' | 'flows' = 'full'): Promise<string | null> {
  const res = await adminRequest(socketPath, 'POST', `${adminRoot}/flows`, JSON.stringify({ flows }), {
    'Node-RED-API-Version': 'v2',
    'Node-RED-Deployment-Type': type,
  });
  if (res.status < 200 || res.status >= 300) throw new Error(`Node-RED refused the deploy (HTTP ${res.status}): ${res.body.slice(0, 300)}`);
  try {
    const j = JSON.parse(res.body) as { rev?: unknown };
    return typeof j.rev === 'string' ? j.rev : null;
  } catch {
    return null;
  }
}
