/**
 * `vaktpost --help` and `vaktpost <command> --help`. One entry per command: its synopsis,
 * what it does, and its exit codes when they differ from the shared ones.
 */
import { COMMAND_RESULTS, EXIT } from './exitCodes.js';

const CONFIG = '-c, --config FILE   the config (default: $VAKTPOST_CONFIG or /etc/vaktpost/vaktpost.yaml)';

export const COMMAND_HELP: Record<string, string> = {
  run: `vaktpost run [-c FILE]
  Start the supervisor (what vaktpost.service runs). Refuses a config check-config refuses.
  ${CONFIG}`,
  'check-config': `vaktpost check-config [FILE | -c FILE]
  Validate a config the way \`run\` does at start-up: the schema, the upstream templates and every
  \${env:NAME} they use (against this shell's environment: load the service's first). One line per
  problem, FILE:LINE: what is wrong and the fix. Warnings (valid but weak) do not fail.
  exit ${EXIT.ok}: valid   ${EXIT.dataErr}: invalid`,
  status: `vaktpost status [-c FILE] [--json]
  Where calls go now and why. For monitoring (Nagios/Icinga style):
  exit ${COMMAND_RESULTS.status.normal}: normal   ${COMMAND_RESULTS.status.degraded}: degraded (also recovering, maintenance)
       ${COMMAND_RESULTS.status.critical}: failed over to backup, or no centre reachable
       ${COMMAND_RESULTS.status.unknown}: unknown — the supervisor is not answering (the last stored decision is shown)
  ${CONFIG}
  --json              the status as JSON`,
  events: `vaktpost events [-c FILE] [--limit N] [--json]
  The latest N (1–1000, default 20) events, from the store (works while the supervisor is down).`,
  route: `vaktpost route override --to local|backup --minutes N --reason TEXT [-c FILE]
vaktpost route clear [-c FILE]
  Force the route for N minutes (logged with the reason), or end the override. Needs the running supervisor.`,
  drill: `vaktpost drill [-c FILE] [--json]
  Run the failover drill now. exit ${COMMAND_RESULTS.drillFailed}: the drill failed.`,
  'kamailio-render': `vaktpost kamailio-render [-c FILE]
  Write kamailio.cfg and dispatcher.list from the config's \`calls\` section; restart Kamailio after.`,
  user: `vaktpost user add NAME --role operator|technician|admin [-c FILE]
vaktpost user passwd NAME [-c FILE]
  Create an account or set its password (all its sessions end). The password comes from
  $VAKTPOST_PASSWORD, else is asked for without echo on a terminal, else is the first line of
  stdin (e.g. \`printf '%s\\n' "$PW" | vaktpost user passwd kari\`). Goes through the running
  supervisor (audited; open sessions closed at once); writes the store directly if it is not running.`,
  audiolog: `vaktpost audiolog verify [-c FILE] [--json] [--chain-only]
vaktpost audiolog export ID... --reason TEXT --out FILE.tar [-c FILE]
vaktpost audiolog render-rtpengine [-c FILE] [--out FILE]
  The audio log (lydlogg): verify the hash chain and files, export recordings with proof (the
  access is logged), write rtpengine's config. exit ${COMMAND_RESULTS.audiologVerifyFailed}: verify found problems.`,
  flows: `vaktpost flows status | versions [--limit N] | templates
vaktpost flows dry-run (--template NAME | --file FLOWS.json | --version N)
vaktpost flows deploy (--template NAME | --file FLOWS.json) [--reason TEXT]
vaktpost flows rollback VERSION [--reason TEXT]
  The municipality's Node-RED flows. Needs the running supervisor. [--json]`,
  report: `vaktpost report [--month YYYY-MM | --from DATE --to DATE] [--format csv|html|json] [--out FILE]
  Availability and answer times for the period. exit ${COMMAND_RESULTS.reportTargetMissed}: a target was missed.`,
  deviations: `vaktpost deviations [--state open|acknowledged|closed|notClosed|all] [--format text|csv|html|json] [--out FILE]
  The deviation log (avvik).`,
  deviation: `vaktpost deviation open --comment TITLE --as NAME
vaktpost deviation ack ID --as NAME [--comment TEXT]
vaktpost deviation close ID --as NAME --comment TEXT
  Record, acknowledge or close a deviation, signed by a person. Needs the running supervisor.`,
  duties: `vaktpost duties [--json | --format csv [--out FILE]]
  The scheduled duties' last runs (drills, reports, checks).`,
  apply: `vaktpost apply [-c FILE] [--root DIR] [--dry-run] [--no-reload]
  Render every daemon's config from the config — Kamailio (cfg, dispatcher list), the announcement
  (scenario, prompt), rtpengine, chrony (sources, LAN access), the nftables firewall — check each with
  its daemon's checker (kamailio -c, nft -c, chronyd -p), write the changed ones atomically and reload
  only their units (systemctl reload-or-restart). One line per file: created, changed or unchanged.
  ${CONFIG}
  --root DIR          write under DIR (an image, a test); reloads nothing
  --dry-run           check and show what would change; write and reload nothing
  --no-reload         write, but leave the units alone (printed: what to reload)
  exit ${EXIT.ok}: done   ${EXIT.dataErr}: invalid config, or a checker refused a rendered file (nothing written)
       ${EXIT.unavailable}: written, but a unit failed to reload   ${EXIT.cantCreate}/${EXIT.noPerm}: cannot write (run as root)`,
  backup: `vaktpost backup --to FILE.tar [--with-audio] [-c FILE]
  A consistent copy of box.dataDir while the supervisor runs: the store (SQLite online backup),
  the TLS key, secrets and tokens; with --with-audio also the audio archive's recordings. A
  manifest lists every file with its size and SHA-256. FILE is written 0600, never overwritten.
  exit ${EXIT.dataErr}: no store to back up   ${EXIT.cantCreate}: FILE exists or cannot be written`,
  restore: `vaktpost restore --from FILE.tar [--force] [-c FILE]
  Put a backup onto this box (a fresh install): every checksum is verified before anything is
  written. Refuses a data dir that is not empty unless --force (what is there is moved aside to
  <dataDir>/.replaced-<time>/, never deleted), and always while a supervisor has the store open.
  exit ${EXIT.dataErr}: damaged backup, data dir not empty or in use
       ${EXIT.config}: the backup's store is newer than this Vaktpost (install that version)`,
};

/** One line per command for `vaktpost --help`. */
const SUMMARY: Record<string, string> = {
  run: 'start the supervisor',
  'check-config': 'validate a config as `run` would (exit 65 if invalid)',
  status: 'where calls go now and why (exit 0 normal, 1 degraded, 2 failed over, 3 unknown)',
  events: 'the latest events',
  route: 'override the route for a while, or clear the override',
  drill: 'run the failover drill now (exit 3 if it fails)',
  'kamailio-render': "write Kamailio's config from the `calls` section",
  user: 'add an account or set its password',
  audiolog: 'the audio log: verify, export, render-rtpengine',
  flows: "the municipality's Node-RED flows",
  report: 'availability and answer times (exit 4: a target missed)',
  deviations: 'list the deviation log',
  deviation: 'open, acknowledge or close a deviation',
  duties: "the scheduled duties' last runs",
  apply: "render every daemon's config and the firewall from the config; reload what changed",
  backup: 'copy the store, secrets (and audio) to one file while running',
  restore: 'put a backup onto a fresh install (checksums first)',
};

export function generalHelp(version: string): string {
  const width = Math.max(...Object.keys(COMMAND_HELP).map((c) => c.length));
  const first = (c: string) => SUMMARY[c] ?? '';
  return `vaktpost ${version} — the after-hours call centre's supervisor (legevaktsentral)

usage: vaktpost <command> [options]      vaktpost <command> --help      vaktpost --version

commands:
${Object.keys(COMMAND_HELP)
  .map((c) => `  ${c.padEnd(width)}  ${first(c)}`)
  .join('\n')}

exit codes (sysexits): ${EXIT.ok} ok, ${EXIT.usage} usage error, ${EXIT.dataErr} invalid config or refused data,
  ${EXIT.unavailable} supervisor not running, ${EXIT.software} internal error, ${EXIT.cantCreate} cannot write output, ${EXIT.noPerm} no permission,
  ${EXIT.config} the store was written by a newer Vaktpost;
  status, drill, report and audiolog verify have their own verdicts below 64 (see their --help).
`;
}
