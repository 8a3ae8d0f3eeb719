/** hardware/net: link events and uplink-pinned probes. No policy lives here. */
export * from './attempt.js';
export * from './httpProbe.js';
export * from './linkEvents.js';
export * from './probeLoop.js';
export * from './prober.js';
export * from './rtt.js';
export * from './sipOptions.js';
export * from './tcpConnect.js';
export * from './udpEcho.js';
export * from './inventory.js';
export * from './dnsCache.js';
