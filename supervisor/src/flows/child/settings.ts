/**
 * Node-RED settings for the flows child. The host chooses paths and the secret; the
 * safety settings are fixed here, where no config can loosen them:
 *  - offline: no telemetry, no update checks, no palette catalogue or installs,
 *    no npm modules in Function nodes;
 *  - the `exec` node is not loaded (it runs shell commands), nor the file nodes
 *    (`file`, `file in`, `watch`) unless flows.fileNodes — and then they still only
 *    reach what the flows user may;
 *  - every Function node gets a timeout (an endless loop is interrupted);
 *  - no HTTP-in endpoints (httpNodeRoot off) and no runtime start/stop from the editor;
 *  - the editor and admin API listen on a unix socket the supervisor proxies.
 */
import type { ChildInit } from '../protocol.js';

export function nodeRedSettings(init: ChildInit, host: object): Record<string, unknown> {
  return {
    userDir: init.userDir,
    flowFile: 'flows.json',
    flowFilePretty: true,
    credentialSecret: init.credentialSecret,
    httpAdminRoot: init.adminRoot,
    httpNodeRoot: false,
    disableEditor: false,
    nodesDir: [init.nodesDir],
    nodesExcludes: ['90-exec.js', ...(init.fileNodes ? [] : ['10-file.js', '23-watch.js'])],
    functionExternalModules: false,
    functionGlobalContext: {},
    exportGlobalContextKeys: false,
    // Applies to every Function node whose own timeout is 0 (the default of new nodes too).
    globalFunctionTimeout: init.functionTimeoutS,
    functionTimeout: init.functionTimeoutS,
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: false, allowUpdate: false, allowUpload: false },
      modules: { allowInstall: false },
    },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    editorTheme: {
      tours: false,
      projects: { enabled: false },
      multiplayer: { enabled: false },
      palette: { catalogues: [] },
      page: { title: 'Vaktpost · flyter', scripts: init.editorScripts },
      header: { title: 'Vaktpost · Node-RED' },
    },
    logging: { console: { level: init.logLevel, metrics: false, audit: false } },
    vaktpost: host,
  };
}
