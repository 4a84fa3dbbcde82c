// virConnectGetAllDomainStats through the binding, on libvirt's test driver (no daemon). The real
// daemon's counters (cpu.time, balloon, block) are checked by test/e2e/day2.e2e.test.ts.
import { testDriverDomainXml } from '@agentfleet/testing/test-domains';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, open } from './connection.js';
import { DomainStateCode } from './constants.js';
import { DomainStatsFlags, DomainStatsTypes } from './domain-stats.js';
import { HandleClosedError } from './errors.js';

let conn: Connection;
beforeEach(async () => {
  conn = await open('test:///default');
});
afterEach(async () => {
  await conn.close();
});

describe('domainStats', () => {
  it('reports every domain with its state fields, and filters to active ones', async () => {
    const dom = await conn.defineXML(testDriverDomainXml('dbstats'));
    dom.free();
    const all = await conn.domainStats(DomainStatsTypes.State);
    const byName = new Map(all.map((r) => [r.name, r]));
    expect(byName.get('test')?.params).toMatchObject({ 'state.state': DomainStateCode.Running });
    expect(byName.get('dbstats')?.params).toMatchObject({ 'state.state': DomainStateCode.Shutoff });
    expect(byName.get('dbstats')?.uuid).toMatch(/^[0-9a-f-]{36}$/);

    const active = await conn.domainStats(DomainStatsTypes.State, DomainStatsFlags.Active);
    expect(active.map((r) => r.name)).toEqual(['test']);
  });

  it('rejects on a closed connection with the binding error', async () => {
    const c = await open('test:///default');
    await c.close();
    await expect(c.domainStats(DomainStatsTypes.State)).rejects.toBeInstanceOf(HandleClosedError);
  });
});
