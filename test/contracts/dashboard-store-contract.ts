/**
 * The promises of DashboardStore (src/dashboards/dashboard-store-type.ts), written once and run
 * against the Elasticsearch store (test/contracts/elasticsearch-stores.test.ts) and its in-memory
 * twin (test/contracts/memory-stores.test.ts). Ids are random per test, so a store shared with other
 * tests (the one mlog_dashboards index) holds no dashboard of another test under the same id; list()
 * is checked for the test's own dashboards only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DashboardStore, StoredDashboard } from '../../src/dashboards/dashboard-store-type.js';

type Factory = () => DashboardStore | Promise<DashboardStore>;

const newId = (): string => `contract-${randomBytes(8).toString('hex')}`;

/** The n-th distinct dashboard for `id`: each differs in title, panels and who saved it when. */
function dashboardOf(id: string, n: number): StoredDashboard {
  const at = new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString();
  return {
    id,
    title: `Contract dashboard ${n}`,
    description: `version ${n}`,
    time_range: { from: `now-${n}h`, to: 'now' },
    refresh_seconds: n % 2 === 0 ? 0 : 60,
    panels: Array.from({ length: n % 3 }, (_, position) => ({
      id: `p${position}`,
      title: `Panel ${position} of ${n}`,
      grid: { x: 0, y: position * 8, w: 6, h: 8 },
      scope: { kind: 'events', systems: ['mpass'] },
      query: `event_type:MPass.* AND user:u${n}`,
      visualisation: { kind: 'top-values', field: 'event_type', top_n: 10, display: 'bar' },
    })),
    created_at: at,
    created_by: 'contract',
    updated_at: at,
    updated_by: `editor-${n}`,
  };
}

async function listed(store: DashboardStore, id: string): Promise<{ dashboard: StoredDashboard; version: string } | undefined> {
  return (await store.list()).find((each) => each.dashboard.id === id);
}

/** The promises of DashboardStore for the store `factory` returns. */
export function dashboardStoreContract(name: string, factory: Factory): void {
  describe(`${name} keeps the promises of a DashboardStore`, () => {
    test('get of an id never written: undefined; it is not listed', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.get(id), undefined);
      assert.equal(await listed(store, id), undefined);
    });

    test('create of an absent id: true; get and list see the dashboard as given at once, at one version', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const read = await store.get(id);
      assert.ok(read !== undefined, 'read back at once, without a refresh');
      assert.deepEqual(read.dashboard, dashboardOf(id, 1));
      assert.equal(typeof read.version, 'string');
      assert.notEqual(read.version, '');
      const inList = await listed(store, id);
      assert.deepEqual(inList?.dashboard, dashboardOf(id, 1));
      assert.equal(inList?.version, read.version, 'list gives the version get gives');
    });

    test('create of an id that exists: false, and the stored dashboard and its version are unchanged', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const before = await store.get(id);
      assert.equal(await store.create(dashboardOf(id, 2)), false);
      const after = await store.get(id);
      assert.deepEqual(after?.dashboard, dashboardOf(id, 1));
      assert.equal(after?.version, before?.version);
    });

    test('replace at the version read: "replaced", a new version, and the new dashboard read back by get and list', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const first = await store.get(id);
      assert.ok(first !== undefined);
      assert.equal(await store.replace(dashboardOf(id, 2), first.version), 'replaced');
      const second = await store.get(id);
      assert.deepEqual(second?.dashboard, dashboardOf(id, 2));
      assert.notEqual(second?.version, first.version, 'the version changes with every write');
      assert.deepEqual((await listed(store, id))?.dashboard, dashboardOf(id, 2));
    });

    test('replace at a version no longer current, or one the store never gave: "stale", and the dashboard is unchanged', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const first = await store.get(id);
      assert.ok(first !== undefined);
      assert.equal(await store.replace(dashboardOf(id, 2), first.version), 'replaced');
      const second = await store.get(id);
      assert.equal(await store.replace(dashboardOf(id, 3), first.version), 'stale');
      for (const made of ['', 'not a version', '999999.999999', `${second?.version ?? ''}x`]) {
        assert.equal(await store.replace(dashboardOf(id, 3), made), 'stale', `version "${made}"`);
      }
      const after = await store.get(id);
      assert.deepEqual(after?.dashboard, dashboardOf(id, 2));
      assert.equal(after?.version, second?.version);
    });

    test('replace of a dashboard removed meanwhile: "missing", and nothing is written back', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const read = await store.get(id);
      assert.ok(read !== undefined);
      assert.equal(await store.remove(id), true);
      assert.equal(await store.replace(dashboardOf(id, 2), read.version), 'missing');
      assert.equal(await store.get(id), undefined, 'a refused replace does not create the dashboard');
    });

    test('put writes whatever is stored under the id (absent or not), with a new version each time', async () => {
      const store = await factory();
      const id = newId();
      await store.put(dashboardOf(id, 1));
      const first = await store.get(id);
      assert.deepEqual(first?.dashboard, dashboardOf(id, 1));
      await store.put(dashboardOf(id, 2));
      const second = await store.get(id);
      assert.deepEqual(second?.dashboard, dashboardOf(id, 2));
      assert.notEqual(second?.version, first?.version);
      assert.equal(await store.replace(dashboardOf(id, 3), first?.version ?? ''), 'stale', 'the version read before the put is stale');
    });

    test('remove: true, and the dashboard is gone from get and list at once; a second remove: false', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      assert.equal(await store.remove(id), true);
      assert.equal(await store.get(id), undefined);
      assert.equal(await listed(store, id), undefined);
      assert.equal(await store.remove(id), false);
      assert.equal(await store.remove(newId()), false, 'an id never written');
    });

    test('a dashboard removed and created again has a new version: the old one replaces nothing', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const old = await store.get(id);
      assert.ok(old !== undefined);
      assert.equal(await store.remove(id), true);
      assert.equal(await store.create(dashboardOf(id, 2)), true, 'the id is free again');
      assert.notEqual((await store.get(id))?.version, old.version);
      assert.equal(await store.replace(dashboardOf(id, 3), old.version), 'stale');
      assert.deepEqual((await store.get(id))?.dashboard, dashboardOf(id, 2));
    });

    test('list holds every dashboard written, each once, with its own content', async () => {
      const store = await factory();
      const ids = [newId(), newId(), newId()];
      for (const [n, id] of ids.entries()) assert.equal(await store.create(dashboardOf(id, n + 1)), true);
      const all = await store.list();
      for (const [n, id] of ids.entries()) {
        const found = all.filter((each) => each.dashboard.id === id);
        assert.equal(found.length, 1, `${id} listed once`);
        assert.deepEqual(found[0]?.dashboard, dashboardOf(id, n + 1));
      }
    });

    test('a dashboard read is a copy: changing it changes nothing stored', async () => {
      const store = await factory();
      const id = newId();
      const given = dashboardOf(id, 4);
      assert.equal(await store.create(given), true);
      given.title = 'changed after create';
      const read = await store.get(id);
      assert.ok(read !== undefined);
      read.dashboard.panels.length = 0;
      assert.deepEqual((await store.get(id))?.dashboard, dashboardOf(id, 4));
    });

    test('of 8 creates of one id at once, exactly one succeeds, and its dashboard is the one stored', async () => {
      const store = await factory();
      const id = newId();
      const results = await Promise.all(Array.from({ length: 8 }, (_, n) => store.create(dashboardOf(id, n + 1))));
      const winners = results.flatMap((created, n) => (created ? [n] : []));
      assert.equal(winners.length, 1, `creates that succeeded: ${winners.length}`);
      assert.deepEqual((await store.get(id))?.dashboard, dashboardOf(id, (winners[0] ?? 0) + 1));
    });

    test('of 8 replaces from one read at once, exactly one succeeds and the others are "stale"', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const read = await store.get(id);
      assert.ok(read !== undefined);
      const results = await Promise.all(Array.from({ length: 8 }, (_, n) => store.replace(dashboardOf(id, n + 2), read.version)));
      const winners = results.flatMap((outcome, n) => (outcome === 'replaced' ? [n] : []));
      assert.equal(winners.length, 1, `replaces that succeeded: ${winners.length}`);
      assert.deepEqual(results.filter((outcome) => outcome !== 'replaced'), Array.from({ length: 7 }, () => 'stale'));
      assert.deepEqual((await store.get(id))?.dashboard, dashboardOf(id, (winners[0] ?? 0) + 2));
    });

    test('of 8 removes at once, exactly one says it removed the dashboard', async () => {
      const store = await factory();
      const id = newId();
      assert.equal(await store.create(dashboardOf(id, 1)), true);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.remove(id)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.get(id), undefined);
    });
  });
}
