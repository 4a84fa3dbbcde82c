export * from './connection.js';
export * from './constants.js';
export { Domain, type DomainInfo, type MetadataImpact, type UndefineOptions } from './domain.js';
export { DomainStatsFlags, type DomainStatsRecord, DomainStatsTypes } from './domain-stats.js';
export * from './errors.js';
export { probeKvm, probePasst } from './host-probes.js';
export { LibvirtHypervisor } from './hypervisor.js';
export { LibvirtSnapshots, snapshotInfo } from './snapshot-store.js';
export { LibvirtUsage, sampleOf } from './usage-source.js';
