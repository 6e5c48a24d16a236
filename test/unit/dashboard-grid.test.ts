/**
 * The console's rules for a dashboard's grid (where a new panel goes, how a dragged or resized layout
 * becomes the panels' positions within the API's limits) and how a panel writes its figures.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { applyLayout, clampGrid, copyTitle, formatChange, formatShare, GRID_COLUMNS, MAX_PANEL_HEIGHT, MIN_PANEL_HEIGHT, newPanelId, placeBelow } from '../../web/src/dashboard-grid.js';

const panel = (id: string, x: number, y: number, w: number, h: number) => ({ id, title: id, grid: { x, y, w, h } });

describe('the dashboard grid', () => {
  test('a new panel takes the first unused id p<n>', () => {
    assert.equal(newPanelId([]), 'p1');
    assert.equal(newPanelId([{ id: 'p1' }, { id: 'p2' }]), 'p3');
    assert.equal(newPanelId([{ id: 'p3' }, { id: 'p2' }]), 'p4');
    assert.equal(newPanelId([{ id: 'events' }]), 'p2');
  });

  test('a new panel goes to the left edge, below the lowest panel', () => {
    assert.deepEqual(placeBelow([]), { x: 0, y: 0, w: 6, h: 8 });
    assert.deepEqual(placeBelow([panel('a', 0, 0, 6, 8), panel('b', 6, 0, 6, 12), panel('c', 0, 8, 3, 2)]), { x: 0, y: 12, w: 6, h: 8 });
  });

  test('any position is brought inside 12 columns and 2..40 rows, and a valid one is kept as it is', () => {
    assert.deepEqual(clampGrid({ x: 10, y: 0, w: 6, h: 8 }), { x: 6, y: 0, w: 6, h: 8 });
    assert.deepEqual(clampGrid({ x: -1, y: -3, w: 20, h: 1 }), { x: 0, y: 0, w: 12, h: MIN_PANEL_HEIGHT });
    assert.deepEqual(clampGrid({ x: 2.4, y: 1.6, w: 3.5, h: 99 }), { x: 2, y: 2, w: 4, h: MAX_PANEL_HEIGHT });
    fc.assert(
      fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 80 }), (x, y, w, h) => {
        const grid = clampGrid({ x, y, w, h });
        assert.ok(grid.x >= 0 && grid.x <= 11 && grid.w >= 1 && grid.w <= 12 && grid.x + grid.w <= GRID_COLUMNS, JSON.stringify(grid));
        assert.ok(grid.y >= 0 && grid.h >= MIN_PANEL_HEIGHT && grid.h <= MAX_PANEL_HEIGHT, JSON.stringify(grid));
        assert.deepEqual(clampGrid(grid), grid, 'a valid position stays');
      }),
    );
  });

  test('a layout from the grid moves and resizes the panels it names, and leaves the others as they were', () => {
    const panels = [panel('p1', 0, 0, 6, 8), panel('p2', 6, 0, 6, 8), panel('p3', 0, 8, 12, 4)];
    const moved = applyLayout(panels, [
      { i: 'p1', x: 0, y: 0, w: 6, h: 8 },
      { i: 'p2', x: 0, y: 8, w: 12, h: 10 },
    ]);
    assert.equal(moved[0], panels[0], 'an unchanged panel is the same object, so nothing re-renders');
    assert.deepEqual(moved[1]!.grid, { x: 0, y: 8, w: 12, h: 10 });
    assert.equal(moved[2], panels[2], 'a panel missing from the layout is kept');
    assert.deepEqual(applyLayout(panels, [{ i: 'p3', x: 9, y: 2, w: 6, h: 50 }])[2]!.grid, { x: 6, y: 2, w: 6, h: 40 });
  });
});

describe('the figures of a panel', () => {
  test('the change of a metric against the previous period, with its direction', () => {
    assert.deepEqual(formatChange({ value: 112, change: 0.12 }), { text: '+12 %', direction: 'up' });
    assert.deepEqual(formatChange({ value: 60, change: -0.4 }), { text: '−40 %', direction: 'down' });
    assert.deepEqual(formatChange({ value: 5, change: 0 }), { text: 'no change', direction: 'same' });
    assert.deepEqual(formatChange({ value: 5, change: 0.00001 }), { text: 'no change', direction: 'same' });
    assert.deepEqual(formatChange({ value: 7, change: null }), { text: 'none in the previous period', direction: 'new' });
    assert.deepEqual(formatChange({ value: 0, change: null }), { text: 'no events in either period', direction: 'same' });
  });

  test('shares are written as a percentage with one decimal', () => {
    assert.equal(formatShare(0.42), '42.0 %');
    assert.equal(formatShare(1), '100.0 %');
    assert.equal(formatShare(0.12345), '12.3 %');
    assert.equal(formatShare(0), '0.0 %');
  });

  test('a copy is titled "Copy of <title>"', () => {
    assert.equal(copyTitle('MLog overview'), 'Copy of MLog overview');
  });
});
