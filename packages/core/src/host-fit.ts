import type { Diagnostic } from './diagnostics.js';
import { reservedCoresOn } from './hosts.js';
import type { Fleet } from './model.js';
import { createLocator } from './yaml-source.js';

/** Why a core number cannot be pinned on a host with `cpus` CPUs, or undefined. */
export function missingCoreProblem(core: number, uri: string, cpus: number): string | undefined {
  return core >= cpus ? `does not exist on host ${uri} (${cpus} cpus: 0-${cpus - 1})` : undefined;
}

/**
 * Declarations that cannot fit a host of `cpus` CPUs regardless of what else runs there:
 * explicit cores the host lacks, more exclusive vCPUs than unreserved cores.
 */
export function hostFitDiagnostics(fleet: Fleet, host: { uri: string; cpus: number }): Diagnostic[] {
  const unreserved = Array.from({ length: host.cpus }, (_, c) => c).filter(
    (c) => !reservedCoresOn(fleet.config, host.uri).includes(c),
  ).length;
  const out: Diagnostic[] = [];
  const locate = createLocator();
  for (const a of fleet.agents.filter((x) => x.libvirtUri === host.uri)) {
    const at = (path: string, message: string) =>
      out.push({ file: a.file, ...locate(a.file, fleet.texts[a.file], path), path, message });
    a.cores?.forEach((core, i) => {
      const problem = missingCoreProblem(core, host.uri, host.cpus);
      if (problem) at(`cores.${i}`, `core ${core} of agent ${a.name} ${problem}`);
    });
    if (!a.shareCores && a.cores === undefined && a.vcpus > unreserved) {
      at(
        'vcpus',
        `agent ${a.name} needs ${a.vcpus} exclusive core(s) but host ${host.uri} has only ${unreserved} unreserved (set shareCores: true to share)`,
      );
    }
  }
  return out;
}
