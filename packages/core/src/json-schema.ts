import { z } from 'zod';
import { AgentFileSchema, FleetFileSchema } from './schemas.js';

const SCHEMA_BASE = 'https://agentfleet.dev/schema';

/** JSON Schemas of agents/fleet.yaml and agents/<name>.yaml, for yaml-language-server and other editors. */
export function jsonSchemas(): { fleet: object; agent: object } {
  const render = (schema: z.ZodType, id: string) => ({
    ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }),
    $id: `${SCHEMA_BASE}/${id}.schema.json`,
  });
  return { fleet: render(FleetFileSchema, 'fleet'), agent: render(AgentFileSchema, 'agent') };
}
