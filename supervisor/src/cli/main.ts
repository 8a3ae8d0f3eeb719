#!/usr/bin/env node
/**
 * vaktpost <command>
 *   run [-c FILE]                 start the supervisor
 *   check-config FILE             validate a config as `run` would; exit 65 on errors
 *   status [-c FILE] [--json]     where calls go now and why
 *   events [-c FILE] [--limit N] [--json]
 *   route override --to local|backup --minutes N --reason TEXT [-c FILE]
 *   route clear [-c FILE]
 *   audiolog verify|export|render-rtpengine   the audio log (lydlogg): verify the chain and files, export with proof
 *   report [--month YYYY-MM | --from --to] [--format csv|html]   availability and answer times (exit 4: target missed)
 *   deviations [--state open] | deviation ack|close ID --comment TEXT | duties
 *   flows status|versions|templates|dry-run|deploy|rollback   the municipality's Node-RED flows
 *   kamailio-render [-c FILE]     write kamailio.cfg + dispatcher.list from the calls section
 *   drill [-c FILE]               run the failover drill now (exit 3 if it fails)
 *   user add NAME --role operator|technician|admin [-c FILE]   (password from VAKTPOST_PASSWORD or stdin)
 *   user passwd NAME [-c FILE]
 *   apply [-c FILE] [--root DIR] [--dry-run] [--no-reload]   render every daemon's config, reload what changed
 *   backup --to FILE.tar [--with-audio] [-c FILE]   the store, secrets (and the audio archive) while running
 *   restore --from FILE.tar [--force] [-c FILE]      onto a fresh install; checksums first
 *   --help, <command> --help, --version
 * Exit codes: exitCodes.ts (sysexits; README "CLI").
 */
import { apiRequest } from './apiRequest.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Accounts, ROLES, type Role } from '../api/auth.js';
import { startApp } from '../app.js';
import { installProcessGuards } from '../lifecycle/processGuards.js';
import { stdoutIsJournal } from '../lifecycle/journalStream.js';
import { serviceStatusLine, systemdNotifier } from '../lifecycle/systemdNotify.js';
import { ConfigError, type ConfigWarning, formatWarning, loadConfigFile, loadConfigFileWithWarnings, warnToStderr } from '../config/load.js';
import type { VaktpostConfig } from '../config/schema.js';
import { createLogger } from '../log.js';
import { OWNER_ONLY_UMASK } from '../store/dataDir.js';
import { openDb } from '../store/db.js';
import { assertStoreNotNewer, StoreTooNewError } from '../store/schemaVersion.js';
import { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { CliError, COMMAND_RESULTS, EXIT, exitForErrno, exitForHttpStatus } from './exitCodes.js';
import { COMMAND_HELP, generalHelp } from './help.js';
import { readPassword } from './password.js';
import { oneLine, textForTerminal } from './terminalText.js';

const DEFAULT_CONFIG = process.env.VAKTPOST_CONFIG ?? '/etc/vaktpost/vaktpost.yaml';

class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}
/** The supervisor's API could not be reached at all (not running, no token, no answer) — as opposed to a refusal. */
class UnreachableError extends CliError {
  constructor(message: string) {
    super(message, EXIT.unavailable);
  }
}

/** Everything printed goes through textForTerminal: stored text must not drive the terminal. */
function say(s: string): void {
  process.stdout.write(textForTerminal(s));
}

function fail(msg: string, code: number = EXIT.software): never {
  process.stderr.write(textForTerminal(`vaktpost: ${msg}\n`));
  process.exit(code);
}

/**
 * Warnings are for `check-config` and the start of `run`; other commands stay quiet about
 * them. `startup`: also what `run` checks at start-up (env references, templates) — only
 * for `run` itself: an admin's shell need not hold the service's secrets to read events.
 */
function loadConfig(file: string, opts: { warnings?: boolean; startup?: boolean } = {}): VaktpostConfig {
  try {
    return loadConfigFile(file, { ...(opts.warnings ? { onWarning: warnToStderr } : {}), ...(opts.startup ? { startupEnv: process.env } : {}) });
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid config (ugyldig konfigurasjon):\n${err.message}`, EXIT.dataErr);
    throw err;
  }
}

async function api(cfg: VaktpostConfig, method: string, p: string, body?: unknown, timeoutMs = 5000): Promise<unknown> {
  const tokenFile = path.join(cfg.box.dataDir, 'cli.token');
  if (!existsSync(tokenFile)) throw new UnreachableError(`no CLI token at ${tokenFile} — is the supervisor running with this config?`);
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trim();
  } catch {
    throw new CliError(`cannot read ${tokenFile} — run the CLI as the user that runs Vaktpost (root)`, EXIT.noPerm);
  }
  // A wildcard listen is reached on loopback; an IPv6 address goes in brackets in the URL.
  const listen = cfg.api.listen === '0.0.0.0' ? '127.0.0.1' : cfg.api.listen === '::' ? '::1' : cfg.api.listen;
  const host = listen.includes(':') ? `[${listen}]` : listen;
  let pinnedCert: Buffer | undefined;
  if (cfg.api.tls) {
    const certFile = path.join(cfg.box.dataDir, 'tls', 'cert.pem');
    try {
      pinnedCert = readFileSync(certFile);
    } catch {
      throw new UnreachableError(`api.tls is on but there is no certificate at ${certFile} — is the supervisor running with this config?`);
    }
  }
  let res: { status: number; text: string };
  try {
    res = await apiRequest({
      host,
      port: cfg.api.port,
      path: p,
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      timeoutMs,
      ...(pinnedCert ? { pinnedCert } : {}),
    });
  } catch (err) {
    throw new UnreachableError(`the supervisor at ${cfg.api.tls ? 'https' : 'http'}://${host}:${cfg.api.port} did not answer (${(err as Error).message})`);
  }
  const json = ((): { error?: string; issues?: Array<{ path: string; message: string }> } => {
    try {
      return JSON.parse(res.text) as { error?: string; issues?: Array<{ path: string; message: string }> };
    } catch {
      return {};
    }
  })();
  const issues = json.issues?.map((i) => `${i.path}: ${i.message}`).join('; ');
  if (res.status < 200 || res.status > 299)
    throw new CliError(`${method} ${p}: ${res.status} ${json.error ?? ''}${issues ? ` — ${issues}` : ''}`, exitForHttpStatus(res.status));
  return json;
}

const fmtTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Where calls stand, as a monitoring verdict (README "CLI": `vaktpost status` exit codes). */
function statusVerdict(s: { route: string; mode: string; health: Record<string, { status: string }> }): number {
  if (s.route === 'backup' || s.mode === 'failover' || s.health.centres?.status === 'fail') return COMMAND_RESULTS.status.critical;
  return s.mode === 'normal' ? COMMAND_RESULTS.status.normal : COMMAND_RESULTS.status.degraded;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') return void say(`vaktpost ${VERSION}\n`);
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const topic = rest[0];
    if (topic && COMMAND_HELP[topic]) return void say(`${COMMAND_HELP[topic]}\n`);
    return void say(generalHelp(VERSION));
  }
  if (cmd === undefined) {
    process.stderr.write(generalHelp(VERSION));
    process.exit(EXIT.usage);
  }
  if (COMMAND_HELP[cmd] && (rest.includes('--help') || rest.includes('-h'))) return void say(`${COMMAND_HELP[cmd]}\n`);
  if (cmd === 'audiolog') {
    // Its own options (--reason, --out, …): handled before the shared parser. Its 2 is a usage error.
    const { runAudiologCli } = await import('../audiolog/cli.js');
    const code = await runAudiologCli(rest, DEFAULT_CONFIG, { out: say, err: (s) => process.stderr.write(textForTerminal(s)) });
    process.exit(code === 2 ? EXIT.usage : code);
  }
  if (cmd === 'apply') {
    // Its own options (--root, --dry-run, --no-reload).
    const { runApplyCli } = await import('../apply/cli.js');
    process.exit(await runApplyCli(rest, DEFAULT_CONFIG, { out: say, err: (s) => process.stderr.write(textForTerminal(s)) }));
  }
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(rest);
  } catch (err) {
    // node:util parseArgs: an unknown option or a missing value.
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  await command(cmd, values, positionals);
}

function parseOptions(rest: string[]) {
  return parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', default: DEFAULT_CONFIG },
      json: { type: 'boolean', default: false },
      limit: { type: 'string', default: '20' },
      to: { type: 'string' },
      minutes: { type: 'string' },
      reason: { type: 'string' },
      role: { type: 'string' },
      template: { type: 'string' },
      file: { type: 'string' },
      version: { type: 'string' },
      month: { type: 'string' },
      from: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      state: { type: 'string' },
      comment: { type: 'string' },
      as: { type: 'string' },
      'with-audio': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
}

type Options = ReturnType<typeof parseOptions>['values'];

async function command(cmd: string, values: Options, positionals: string[]): Promise<void> {
  switch (cmd) {
    case 'run': {
      // Every file and directory the supervisor creates is owner-only (store, tokens, keys, archive).
      process.umask(OWNER_ONLY_UMASK);
      const cfg = loadConfig(values.config, { warnings: true, startup: true });
      const log = createLogger();
      let started: Awaited<ReturnType<typeof startApp>> | null = null;
      installProcessGuards(log, () =>
        started
          ? {
              fault: (where, err) => started?.supervisor.internalFault({ where, error: err instanceof Error ? err : new Error(String(err)), at: Date.now() }),
              beforeExit: () => started?.supervisor.journal.flush(),
            }
          : null,
      );
      const app = await startApp(cfg, { log });
      started = app;
      const passwordFile = path.join(cfg.box.dataDir, 'initial-admin-password');
      if (app.initialAdmin?.generated && stdoutIsJournal()) {
        // Under systemd stdout is the journal, readable by more than root: only where it is.
        process.stdout.write(
          `First start: an admin account was created; its password is in ${passwordFile} (readable by the service user only). ` +
            `Førstegangsstart: administratorkonto opprettet; passordet står i ${passwordFile}.\n`,
        );
      } else if (app.initialAdmin?.generated) {
        process.stdout.write(
          `\n  First start: an admin account was created.\n  Førstegangsstart: en administratorkonto er opprettet.\n` +
            `    username / brukernavn: ${app.initialAdmin.username}\n    password / passord:    ${app.initialAdmin.password}\n` +
            `  It is shown once (also in ${path.join(cfg.box.dataDir, 'initial-admin-password')}, root only). Change it with \`vaktpost user passwd admin\`.\n\n`,
        );
      }
      log.info({ url: app.url, hardware: cfg.box.hardware }, `Vaktpost is running at ${app.url}`);
      // Under systemd (Type=notify): ready now, the watchdog fed by decision ticks only.
      const notifier = systemdNotifier({ env: process.env, log });
      if (notifier) {
        app.supervisor.onDecisionTick((t) => notifier.tick(serviceStatusLine(t)));
        const s = app.supervisor.snapshot();
        notifier.ready(serviceStatusLine({ route: s.route, mode: s.mode, callPath: s.callPath.path }));
      }
      let stopping = false;
      const stop = async (sig: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal: sig }, 'stopping');
        notifier?.stopping('stopping (stopper)');
        // Never hang on the way down: calls do not depend on us, a stuck stop helps no one.
        setTimeout(() => {
          log.error('stop took longer than 5 s; exiting anyway');
          process.exit(1);
        }, 5000).unref();
        await app.stop();
        await notifier?.idle();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      return;
    }
    case 'check-config': {
      const file = positionals[0] ?? values.config;
      let warnings: ConfigWarning[];
      let checked: VaktpostConfig;
      try {
        // The same checks as `run`'s start-up, against this process's environment.
        ({ config: checked, warnings } = loadConfigFileWithWarnings(file, { startupEnv: process.env }));
      } catch (err) {
        if (err instanceof ConfigError) {
          // The messages quote the file's text, which may hold control characters.
          process.stderr.write(textForTerminal(`${err.message}\n`));
          process.exit(EXIT.dataErr);
        }
        throw err;
      }
      // A store written by a newer version: `run` would refuse it, so this does too. A store
      // this user cannot read is not the config's fault (`run` says what is wrong with it).
      try {
        assertStoreNotNewer(path.join(checked.box.dataDir, 'vaktpost.db'));
      } catch (err) {
        if (err instanceof StoreTooNewError) throw err;
      }
      // Valid but not doing what it says (e.g. a failover trigger nothing monitors): exit 0.
      for (const w of warnings) process.stderr.write(textForTerminal(`${formatWarning(w)}\n`));
      say(`${file}: OK${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}\n`);
      return;
    }
    case 'status': {
      const cfg = loadConfig(values.config);
      let s: {
        route: string;
        mode: string;
        routeSince: number;
        reasons: Array<{ nb: string; en: string }>;
        health: Record<string, { status: string }>;
        override: unknown;
      };
      try {
        s = (await api(cfg, 'GET', '/api/status')) as typeof s;
      } catch (err) {
        // Supervisor down: say so, and show what it last decided (calls still flow via Kamailio).
        const store = new Store(openDb(path.join(cfg.box.dataDir, 'vaktpost.db')));
        const last = store.lastDecision();
        store.close();
        // Not running, not answering or refusing the token: for a monitor the state is unknown.
        process.stderr.write(textForTerminal(`vaktpost: supervisor not reachable (${(err as Error).message}); showing the last stored decision\n`));
        // Unknown either way: what is stored may no longer be true.
        process.exitCode = COMMAND_RESULTS.status.unknown;
        if (!last) fail('no decision stored yet', COMMAND_RESULTS.status.unknown);
        if (values.json) return void say(`${JSON.stringify({ stale: true, ...last })}\n`);
        say(`route: ${last.route} (stored ${fmtTime(last.at)}, supervisor NOT running)\nmode: ${last.mode}\n`);
        return;
      }
      process.exitCode = statusVerdict(s);
      if (values.json) return void say(`${JSON.stringify(s)}\n`);
      say(`route: ${s.route}   (since ${fmtTime(s.routeSince)})\nmode: ${s.mode}\n`);
      for (const r of s.reasons) say(`  - ${oneLine(r.en)}\n`);
      say(
        `subsystems: ${Object.entries(s.health)
          .map(([k, h]) => `${k}=${h.status}`)
          .join(' ')}\n`,
      );
      return;
    }
    case 'events': {
      const cfg = loadConfig(values.config);
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
      // Read straight from the store: works whether or not the supervisor runs.
      const store = new Store(openDb(path.join(cfg.box.dataDir, 'vaktpost.db')));
      const events = store.events({ limit });
      store.close();
      if (values.json) return void say(`${JSON.stringify(events)}\n`);
      for (const e of events.reverse()) say(`${fmtTime(e.at)} ${oneLine(e.severity).padEnd(5)} ${oneLine(e.kind).padEnd(18)} ${oneLine(e.en)}\n`);
      return;
    }
    case 'route': {
      const cfg = loadConfig(values.config);
      const sub = positionals[0];
      if (sub === 'override') {
        if (values.to !== 'local' && values.to !== 'backup') throw new UsageError('--to must be local or backup');
        const minutes = Number(values.minutes);
        if (!(minutes > 0)) throw new UsageError('--minutes must be a positive number');
        if (!values.reason) throw new UsageError('--reason is required (oppgi en grunn)');
        const s = (await api(cfg, 'POST', '/api/route/override', { route: values.to, minutes, reason: values.reason })) as { route: string; mode: string };
        say(`route: ${s.route} (${s.mode})\n`);
        return;
      }
      if (sub === 'clear') {
        const s = (await api(cfg, 'DELETE', '/api/route/override')) as { route: string; mode: string };
        say(`route: ${s.route} (${s.mode})\n`);
        return;
      }
      throw new UsageError('route override|clear');
    }
    case 'drill': {
      const cfg = loadConfig(values.config);
      const r = (await api(cfg, 'POST', '/api/drill', {}, 120_000)) as {
        outcome: string;
        reason?: string;
        steps: Array<{ step: string; ok: boolean; detail: string }>;
      };
      if (values.json) return void say(`${JSON.stringify(r)}\n`);
      say(`drill: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}\n`);
      for (const s of r.steps) say(`  ${s.ok ? 'ok  ' : 'FAIL'} ${oneLine(s.step)}: ${oneLine(s.detail)}\n`);
      if (r.outcome === 'failed') process.exit(COMMAND_RESULTS.drillFailed);
      return;
    }
    case 'report':
    case 'deviations':
    case 'deviation':
    case 'duties': {
      const cfg = loadConfig(values.config);
      const { runEvidenceCli, EvidenceUsageError } = await import('../evidence/cli.js');
      try {
        process.exitCode = await runEvidenceCli(cmd, positionals, values, { cfg, api: (m, p, b) => api(cfg, m, p, b), write: say });
      } catch (e) {
        if (e instanceof EvidenceUsageError) throw new UsageError(e.message);
        throw e;
      }
      return;
    }
    case 'flows': {
      const cfg = loadConfig(values.config);
      const { flowsCommand } = await import('../flows/cli.js');
      const o = { template: values.template, file: values.file, version: values.version, reason: values.reason, limit: values.limit, json: values.json };
      let text: string;
      try {
        text = await flowsCommand(positionals[0], positionals.slice(1), o, (m, p, b, t) => api(cfg, m, p, b, t));
      } catch (err) {
        // The API's answers arrive as CliError; anything else flows/cli.ts throws is about
        // the command line (usage, --version, an unreadable --file).
        if (err instanceof CliError || !(err instanceof Error)) throw err;
        throw new UsageError(err.message);
      }
      say(`${text}\n`);
      return;
    }
    case 'kamailio-render': {
      // Writes kamailio.cfg and dispatcher.list from the `calls` section (the one source of
      // truth); run before starting Kamailio (ops/kamailio/systemd).
      const cfg = loadConfig(values.config);
      if (!cfg.calls) fail('the config has no `calls` section : nothing to render — see ops/vaktpost.example.yaml', EXIT.dataErr);
      const { writeKamailioFiles } = await import('../reconcilers/kamailio/files.js');
      const w = await writeKamailioFiles(cfg.calls);
      for (const f of [w.cfg, w.dispatcherList]) process.stdout.write(`${f.path}: ${f.changed ? 'written' : 'unchanged'}\n`);
      if (w.cfg.changed || w.dispatcherList.changed) process.stdout.write('restart Kamailio to load it: systemctl restart vaktpost-kamailio\n');
      return;
    }
    case 'user': {
      const cfg = loadConfig(values.config);
      const [sub, name] = positionals;
      if (!name || (sub !== 'add' && sub !== 'passwd')) throw new UsageError('user add|passwd NAME');
      const role = values.role as Role;
      if (sub === 'add' && !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const password = process.env.VAKTPOST_PASSWORD ?? (await readPassword());
      // Through the running supervisor when there is one: the change is audited and
      // (passwd) every session of the user ends and their open WebSockets close at
      // once. Only when it is not running is the store written directly.
      try {
        if (sub === 'add') await api(cfg, 'POST', '/api/users', { username: name, password, role });
        else await api(cfg, 'POST', `/api/users/${encodeURIComponent(name)}/password`, { password });
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        process.stderr.write(`vaktpost: ${err.message}; writing the store directly (skriver direkte til lageret)\n`);
        const store = new Store(openDb(path.join(cfg.box.dataDir, 'vaktpost.db')));
        const accounts = new Accounts(store.db, Date.now);
        try {
          if (sub === 'add') await accounts.createUser(name, password, role);
          // Ends the user's sessions in the same transaction; a supervisor that runs
          // after all closes their sockets at its next check (within 5 s).
          else await accounts.setPassword(name, password);
        } finally {
          store.close();
        }
      }
      process.stdout.write(sub === 'add' ? `user ${name} (${role}) created\n` : `password for ${name} changed; all its sessions have ended\n`);
      return;
    }
    case 'backup':
    case 'restore': {
      const cfg = loadConfig(values.config);
      const { backupCommand, restoreCommand } = await import('../backup/cli.js');
      const o = { to: values.to, from: values.from, withAudio: values['with-audio'], force: values.force };
      const usage = (m: string) => new UsageError(m);
      say(cmd === 'backup' ? await backupCommand(cfg, o, VERSION, usage) : await restoreCommand(cfg, o, usage));
      return;
    }
    default:
      throw new UsageError(
        `unknown command ${cmd ?? '(none)'}; commands: run, status, check-config, events, route, drill, audiolog, report, deviations, deviation, duties, flows, kamailio-render, user, apply, backup, restore`,
      );
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) fail(`${err.message}\nusage: vaktpost <command> [options] — see vaktpost --help`, EXIT.usage);
  if (err instanceof CliError) fail(err.message, err.code);
  if (err instanceof StoreTooNewError) fail(err.message, EXIT.config);
  if (err instanceof ConfigError) fail(`invalid config (ugyldig konfigurasjon):\n${err.message}`, EXIT.dataErr);
  const errno = exitForErrno((err as NodeJS.ErrnoException | null)?.code);
  if (errno !== undefined) fail((err as Error).message, errno);
  fail(err instanceof Error ? err.message : String(err), EXIT.software);
});
