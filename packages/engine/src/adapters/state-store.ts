import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@agentfleet/atomic-file';
import type { FleetState, StateStore } from '@agentfleet/core';
import { emptyFleetState, parseFleetState } from '@agentfleet/core/plan/state';
import { PRIVATE_FILE_MODE } from './state-dir.js';

/** state.json in the state dir; every write replaces the file atomically. */
export class JsonStateStore implements StateStore {
  constructor(readonly path: string) {}

  async load(): Promise<FleetState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyFleetState();
      throw err;
    }
    return parseFleetState(text, this.path);
  }

  async save(state: FleetState): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(state, null, 2)}\n`, PRIVATE_FILE_MODE);
  }
}
