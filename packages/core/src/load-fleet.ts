import { type Diagnostic, fail, ok, type Result, sortDiagnostics } from './diagnostics.js';
import type { AgentSpec, Fleet, FleetConfig } from './model.js';
import { normalizeAgent, normalizeFleet } from './normalize.js';
import { AGENT_RULES, crossAgentProblems, FLEET_RULES, type RuleProblem } from './rules.js';
import { AgentFileSchema, FleetFileSchema } from './schemas.js';
import { createLocator } from './yaml-source.js';
import { parseValidated } from './yaml-validate.js';

export interface SourceFile {
  /** As shown in diagnostics, e.g. `agents/drago.yaml`. The fleet file's basename is `fleet.yaml`. */
  path: string;
  text: string;
}

const FLEET_BASENAME = 'fleet.yaml';

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Agent name from `agents/<name>.yaml`. */
function agentNameOfFile(path: string): string {
  return basename(path).replace(/\.ya?ml$/, '');
}

/**
 * Parse + validate + normalize agents/fleet.yaml and agents/<name>.yaml (pure: the caller
 * reads the files). Reports every problem it can find, each with file:line:column and field.
 */
export function loadFleet(files: readonly SourceFile[]): Result<Fleet> {
  const diagnostics: Diagnostic[] = [];
  const locate = createLocator();
  const located = (f: SourceFile, problems: readonly RuleProblem[]): Diagnostic[] =>
    problems.map(({ path, message }) => ({ file: f.path, ...locate(f.path, f.text, path), path, message }));
  const fleetSources = files.filter((f) => basename(f.path) === FLEET_BASENAME);
  const agentSources = files.filter((f) => basename(f.path) !== FLEET_BASENAME);
  const fleetSrc = fleetSources[0];
  if (!fleetSrc) {
    diagnostics.push({ file: 'agents/fleet.yaml', line: 0, column: 0, path: '', message: 'file is missing' });
  }
  for (const extra of fleetSources.slice(1)) {
    diagnostics.push({
      file: extra.path,
      line: 1,
      column: 1,
      path: '',
      message: 'more than one fleet.yaml given',
    });
  }

  // Agents are still checked against defaults when fleet.yaml is broken, so all errors show at once.
  let config: FleetConfig = normalizeFleet({});
  if (fleetSrc) {
    const raw = parseValidated(fleetSrc.path, fleetSrc.text, FleetFileSchema);
    if (Array.isArray(raw)) {
      diagnostics.push(...raw);
    } else {
      config = normalizeFleet(raw);
      diagnostics.push(
        ...located(
          fleetSrc,
          FLEET_RULES.flatMap((rule) => rule(config)),
        ),
      );
    }
  }

  const agents: AgentSpec[] = [];
  const byFile = new Map<string, SourceFile>();
  for (const src of agentSources) {
    byFile.set(src.path, src);
    const raw = parseValidated(src.path, src.text, AgentFileSchema);
    if (Array.isArray(raw)) {
      diagnostics.push(...raw);
      continue;
    }
    const agent = normalizeAgent(raw, agentNameOfFile(src.path), src.path, config);
    diagnostics.push(
      ...located(
        src,
        AGENT_RULES.flatMap((rule) => rule(agent, raw, config)),
      ),
    );
    agents.push(agent);
  }
  agents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.file.localeCompare(b.file)));
  for (const p of crossAgentProblems(agents)) {
    const src = byFile.get(p.file);
    if (src) diagnostics.push(...located(src, [p]));
  }

  if (diagnostics.length > 0) return fail(sortDiagnostics(diagnostics));
  return ok({ config, agents, texts: Object.fromEntries(files.map((f) => [f.path, f.text])) });
}
