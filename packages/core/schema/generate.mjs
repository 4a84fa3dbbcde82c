// Regenerates fleet.schema.json and agent.schema.json from the zod schemas (run after `tsc -b`):
//   node packages/core/schema/generate.mjs
import { writeFileSync } from 'node:fs';
import { jsonSchemas } from '../dist/json-schema.js';

for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(new URL(`./${name}.schema.json`, import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
}
