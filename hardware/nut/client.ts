/**
 * A small NUT (upsd) network client, written because the npm `node-nut`
 * mis-routes overlapping replies and never recovers from upsd's 60 s idle
 * drop (measured with NUT 2.8).
 *
 * - One request on the wire at a time; later requests wait in a FIFO queue,
 *   so every reply belongs to the request in flight.
 * - Every request has a timeout; on expiry the socket is destroyed (a late
 *   reply would otherwise be taken for the next request's) and the next
 *   request reconnects.
 * - Reconnects with exponential backoff after consecutive failures; the
 *   first reconnect after a healthy session is immediate.
 * - Sends `VER` when nothing else was sent for `keepaliveMs` (default 20 s),
 *   so upsd's fixed 60 s idle drop never closes a quiet connection.
 * - Optional USERNAME / PASSWORD / LOGIN <ups> as upsmon does; upsd only
 *   checks the password at LOGIN, so a wrong one fails the session setup
 *   with `ACCESS-DENIED`.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { errFromLine, formatRequest, NutError, parseVarList, type ReplyShape, redact, tokenizeLine } from './protocol.js';
import type { UpsReader } from './reader.js';

export interface NutClientOptions {
  host?: string;
  port?: number;
  /** upsd.users user; with `password`, sent as USERNAME/PASSWORD on every (re)connect. */
  username?: string;
  password?: string;
  /** LOGIN to this UPS after authenticating (registers us as a monitoring client, like upsmon). */
  login?: string;
  /** Per request, including connect and session setup. Default 2000 ms. */
  requestTimeoutMs?: number;
  /** Send `VER` after this long without traffic. Default 20 000 ms; 0 disables. Must stay below upsd's 60 s. */
  keepaliveMs?: number;
  /** Backoff after consecutive connect failures: min, doubling up to max. Default 250 / 4000 ms. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

interface Job {
  words: readonly string[];
  line: string;
  shape: ReplyShape;
  resolve: (lines: string[][]) => void;
  reject: (err: NutError) => void;
  /** Lines collected for a list reply (between BEGIN and END). */
  lines: string[][];
  begun: boolean;
  timer?: NodeJS.Timeout;
}

export interface NutClientEvents {
  connected: [];
  disconnected: [cause: NutError];
  keepalive: [];
}

/** Longest line we accept before deciding the peer is not upsd. */
const MAX_LINE = 64 * 1024;

export class NutClient extends EventEmitter<NutClientEvents> implements UpsReader {
  readonly host: string;
  readonly port: number;
  private readonly opts: Required<Omit<NutClientOptions, 'username' | 'password' | 'login'>> & Pick<NutClientOptions, 'username' | 'password' | 'login'>;

  private socket: net.Socket | null = null;
  private ready = false;
  private connecting: Promise<void> | null = null;
  private buffer = '';
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private closed = false;
  private failures = 0;
  private retryAt = 0;
  private lastError: NutError | null = null;
  private keepaliveTimer: NodeJS.Timeout | null = null;

  constructor(options: NutClientOptions = {}) {
    super();
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 3493,
      requestTimeoutMs: options.requestTimeoutMs ?? 2000,
      keepaliveMs: options.keepaliveMs ?? 20_000,
      backoffMinMs: options.backoffMinMs ?? 250,
      backoffMaxMs: options.backoffMaxMs ?? 4000,
      username: options.username,
      password: options.password,
      login: options.login,
    };
    if (this.opts.keepaliveMs >= 60_000) {
      throw new Error(`keepaliveMs ${this.opts.keepaliveMs} must be below upsd's fixed 60 s idle drop (use ≤ 30000)`);
    }
    if ((options.username === undefined) !== (options.password === undefined)) {
      throw new Error('NUT username and password go together: set both or neither');
    }
    if (options.login !== undefined && options.username === undefined) {
      throw new Error('NUT LOGIN needs a username and password (upsd answers USERNAME-REQUIRED otherwise)');
    }
    this.host = this.opts.host;
    this.port = this.opts.port;
  }

  /** `host:port` for messages. */
  get where(): string {
    return `${this.host}:${this.port}`;
  }

  /** True while a session is established (connected and, if configured, logged in). */
  get connected(): boolean {
    return this.ready;
  }

  /** `LIST UPS` → UPS name → description. */
  async listUps(): Promise<Map<string, string>> {
    const lines = await this.request(['LIST', 'UPS'], 'list');
    const out = new Map<string, string>();
    for (const w of lines) {
      if (w[0] !== 'UPS' || w.length < 2) throw this.protocolError('LIST UPS', w);
      out.set(w[1] as string, w[2] ?? '');
    }
    return out;
  }

  /** `LIST VAR <ups>` → variable name → value. */
  async listVars(ups: string): Promise<Map<string, string>> {
    const lines = await this.request(['LIST', 'VAR', ups], 'list');
    return parseVarList(lines, ups);
  }

  /** `GET VAR <ups> <name>` → value (rejects with VAR-NOT-SUPPORTED if the UPS lacks it). */
  async getVar(ups: string, name: string): Promise<string> {
    const w = (await this.request(['GET', 'VAR', ups, name], 'line'))[0] ?? [];
    if (w[0] !== 'VAR' || w[1] !== ups || w[2] !== name || w.length < 4) {
      throw this.protocolError(`GET VAR ${ups} ${name}`, w);
    }
    return w[3] as string;
  }

  /**
   * `GET VAR` for each name → the ones this UPS supports (VAR-NOT-SUPPORTED is
   * skipped; any other ERR rejects). Much faster than LIST VAR for a poll:
   * upsd writes a LIST reply line by line, and Nagle on its side against our
   * delayed ACKs costs ~40 ms per LIST; single-line replies do not wait.
   */
  async getVars(ups: string, names: readonly string[]): Promise<Map<string, string>> {
    const replies = await Promise.allSettled(names.map((n) => this.getVar(ups, n)));
    const out = new Map<string, string>();
    replies.forEach((r, i) => {
      if (r.status === 'fulfilled') out.set(names[i] as string, r.value);
      else if (!(r.reason instanceof NutError && r.reason.code === 'VAR-NOT-SUPPORTED')) throw r.reason;
    });
    return out;
  }

  /** `VER` → upsd's version banner. Also the keepalive request. */
  async version(): Promise<string> {
    const [w] = await this.request(['VER'], 'line');
    return (w ?? []).join(' ');
  }

  /** Log out (best effort) and release the socket and timers. Pending requests fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.ready && this.socket && !this.current && this.queue.length === 0) {
      // Polite LOGOUT so a primary upsmon does not wait HOSTSYNC for us; never wait long for it.
      await Promise.race([this.request(['LOGOUT'], 'line').catch(() => undefined), new Promise((r) => setTimeout(r, 200).unref())]);
    }
    this.closed = true;
    this.stopKeepalive();
    this.failAll(new NutError('CLOSED', `NUT client for ${this.where} was closed`));
    this.socket?.destroy();
    this.socket = null;
    this.ready = false;
  }

  /** Send one request and collect its reply. Requests are strictly serialised. */
  private request(words: readonly string[], shape: ReplyShape): Promise<string[][]> {
    if (this.closed) return Promise.reject(new NutError('CLOSED', `NUT client for ${this.where} was closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ words, line: formatRequest(words), shape, resolve, reject, lines: [], begun: false });
      this.pump();
    });
  }

  private pump(): void {
    if (this.current || this.queue.length === 0 || this.closed) return;
    if (!this.ready) {
      this.ensureSession().then(
        () => this.pump(),
        (err: NutError) => this.failQueue(err),
      );
      return;
    }
    const job = this.queue.shift() as Job;
    this.send(job);
  }

  /** Write one job to the socket and arm its timeout. Used for queued requests and session setup. */
  private send(job: Job): void {
    const sock = this.socket;
    if (!sock) {
      job.reject(new NutError('CONNECTION-LOST', `not connected to upsd at ${this.where}`));
      return;
    }
    this.current = job;
    job.timer = setTimeout(() => {
      const err = new NutError(
        'TIMEOUT',
        `upsd at ${this.where} did not answer "${redact(job.line)}" within ${this.opts.requestTimeoutMs} ms — ` +
          'upsd hung or overloaded, or the network path is broken; dropped the connection, will reconnect',
      );
      this.dropConnection(err);
    }, this.opts.requestTimeoutMs);
    sock.write(`${job.line}\n`);
    this.armKeepalive();
  }

  private finish(job: Job): void {
    if (job.timer) clearTimeout(job.timer);
    if (this.current === job) this.current = null;
  }

  /** Connect and authenticate once; concurrent callers share the attempt. */
  private ensureSession(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.connecting) return this.connecting;
    const wait = this.retryAt - Date.now();
    if (wait > 0 && this.lastError) {
      const last = this.lastError;
      return Promise.reject(new NutError(last.code, `${last.message} (next reconnect attempt in ${Math.ceil(wait)} ms)`, { cause: last }));
    }
    this.connecting = this.openSession().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openSession(): Promise<void> {
    try {
      await this.openSocket();
      const { username, password, login } = this.opts;
      if (username !== undefined && password !== undefined) {
        await this.setupStep(['USERNAME', username]);
        await this.setupStep(['PASSWORD', password]);
        if (login !== undefined) {
          await this.setupStep(['LOGIN', login], (err) =>
            err.code === 'ACCESS-DENIED'
              ? new NutError(
                  'ACCESS-DENIED',
                  `upsd at ${this.where} refused LOGIN ${login} for user "${username}" (ERR ACCESS-DENIED) — ` +
                    'wrong password, unknown user, or the user lacks `upsmon secondary` in upsd.users',
                )
              : err,
          );
        }
      }
      this.ready = true;
      this.failures = 0;
      this.retryAt = 0;
      this.lastError = null;
      this.armKeepalive();
      this.emit('connected');
    } catch (e) {
      const err = e instanceof NutError ? e : new NutError('CONNECT-FAILED', String(e), { cause: e });
      this.failures++;
      const delay = Math.min(this.opts.backoffMinMs * 2 ** (this.failures - 1), this.opts.backoffMaxMs);
      this.retryAt = Date.now() + delay;
      this.lastError = err;
      const sock = this.socket;
      this.socket = null;
      sock?.destroy();
      throw err;
    }
  }

  private setupStep(words: string[], mapErr?: (e: NutError) => NutError): Promise<void> {
    return new Promise((resolve, reject) => {
      this.send({
        words,
        line: formatRequest(words),
        shape: 'line',
        lines: [],
        begun: false,
        resolve: () => resolve(),
        reject: (e) => reject(mapErr ? mapErr(e) : e),
      });
    });
  }

  private openSocket(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: this.host, port: this.port });
      this.socket = sock;
      this.buffer = '';
      sock.setNoDelay(true);
      let settled = false;
      let opened = false;
      let sockError: Error | null = null;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        sock.destroy();
        reject(
          new NutError(
            'CONNECT-FAILED',
            `no answer from upsd at ${this.where} within ${this.opts.requestTimeoutMs} ms — host down, wrong address, or firewalled?`,
          ),
        );
      }, this.opts.requestTimeoutMs);
      sock.once('connect', () => {
        if (settled) return;
        settled = true;
        opened = true;
        clearTimeout(timer);
        resolve();
      });
      sock.on('data', (chunk: Buffer) => this.onData(sock, chunk));
      // upsd closing its side (stop, restart, idle drop): fail the in-flight request now,
      // not when our next write hits the half-closed socket.
      sock.on('end', () => {
        if (opened) this.onClose(sock, null);
      });
      sock.on('error', (err: NodeJS.ErrnoException) => {
        sockError = err;
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(this.connectError(err));
      });
      sock.on('close', () => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(new NutError('CONNECT-FAILED', `upsd at ${this.where} closed the connection while connecting`));
          return;
        }
        // A socket that never connected was already reported by the connect rejection.
        if (opened) this.onClose(sock, sockError);
      });
    });
  }

  private connectError(err: NodeJS.ErrnoException): NutError {
    const w = this.where;
    switch (err.code) {
      case 'ECONNREFUSED':
        return new NutError(
          'CONNECT-FAILED',
          `upsd at ${w} refused the connection — is upsd running and listening there? (check \`upsd -F\`, LISTEN in upsd.conf, NUT_CONFPATH)`,
          { cause: err },
        );
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new NutError('CONNECT-FAILED', `upsd host ${w} is unreachable (${err.code}) — check the address and network`, {
          cause: err,
        });
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new NutError('CONNECT-FAILED', `cannot resolve the upsd host in ${w} (${err.code}) — check the host name`, {
          cause: err,
        });
      default:
        return new NutError('CONNECT-FAILED', `cannot connect to upsd at ${w}: ${err.message}`, { cause: err });
    }
  }

  private onData(sock: net.Socket, chunk: Buffer): void {
    if (sock !== this.socket) return;
    this.buffer += chunk.toString('utf8');
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
      if (sock !== this.socket) return; // the line made us drop the connection
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > MAX_LINE) {
      this.dropConnection(new NutError('PROTOCOL', `upsd at ${this.where} sent a line over ${MAX_LINE} bytes — is this really upsd?`));
    }
  }

  private onLine(line: string): void {
    const job = this.current;
    if (!job) {
      // upsd never speaks unasked; an unsolicited line means we lost track of the conversation.
      this.dropConnection(new NutError('PROTOCOL', `unsolicited line from upsd at ${this.where}: ${JSON.stringify(line)}`));
      return;
    }
    let words: string[];
    try {
      words = tokenizeLine(line);
    } catch (e) {
      this.dropConnection(new NutError('PROTOCOL', `${(e as Error).message} (from ${this.where})`));
      return;
    }
    if (words[0] === 'ERR' && !job.begun) {
      this.finish(job);
      job.reject(errFromLine(words, job.line, this.where));
      this.pump();
      return;
    }
    if (job.shape === 'line') {
      this.finish(job);
      job.resolve([words]);
      this.pump();
      return;
    }
    if (!job.begun) {
      if (words[0] !== 'BEGIN' || words[1] !== 'LIST') {
        this.dropConnection(this.protocolError(job.line, words));
        return;
      }
      job.begun = true;
      return;
    }
    if (words[0] === 'END' && words[1] === 'LIST') {
      this.finish(job);
      job.resolve(job.lines);
      this.pump();
      return;
    }
    job.lines.push(words);
  }

  private protocolError(request: string, words: readonly string[]): NutError {
    return new NutError('PROTOCOL', `unexpected reply from upsd at ${this.where} to "${redact(request)}": ${JSON.stringify(words.join(' '))}`);
  }

  /** Destroy the socket because of `cause`; the in-flight and queued requests fail with it. */
  private dropConnection(cause: NutError): void {
    const sock = this.socket;
    this.socket = null;
    this.ready = false;
    sock?.destroy();
    this.failAll(cause);
    if (!this.closed) this.emit('disconnected', cause);
  }

  private onClose(sock: net.Socket, sockError: Error | null): void {
    if (sock !== this.socket) return; // already handled by dropConnection
    const why = sockError ? ` (${sockError.message})` : '';
    this.dropConnection(
      new NutError('CONNECTION-LOST', `upsd at ${this.where} closed the connection${why} — upsd stopped or restarted, or dropped us as idle; will reconnect`),
    );
  }

  private failAll(err: NutError): void {
    const job = this.current;
    if (job) {
      this.finish(job);
      job.reject(err);
    }
    this.failQueue(err);
  }

  private failQueue(err: NutError): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }

  /** (Re)start the idle countdown; fires a `VER` when nothing else went out for keepaliveMs. */
  private armKeepalive(): void {
    if (this.opts.keepaliveMs <= 0 || this.closed) return;
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = null;
      if (this.closed) return;
      this.emit('keepalive');
      // A failure here is already reported to whoever asks next (lastError / backoff);
      // the request itself also re-arms the timer, so the client keeps trying to reconnect.
      this.version().catch(() => this.armKeepalive());
    }, this.opts.keepaliveMs);
    this.keepaliveTimer.unref();
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer) clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }
}
