/**
 * The pure rules of a dashboard's grid and of how its figures are written: no imports, so MLog's unit
 * tests run them as they are.
 */

export interface Grid {
  x: number;
  y: number;
  w: number;
  h: number;
}

export const GRID_COLUMNS = 12;
export const ROW_HEIGHT = 30;
export const MAX_PANELS = 30;
export const MIN_PANEL_HEIGHT = 2;
export const MAX_PANEL_HEIGHT = 40;

/** A panel id not yet used in the dashboard: p1, p2, … */
export function newPanelId(panels: { id: string }[]): string {
  const used = new Set(panels.map((panel) => panel.id));
  let number = panels.length + 1;
  while (used.has(`p${number}`)) number++;
  return `p${number}`;
}

/** Where a new panel goes: the left edge, below every panel already there. */
export function placeBelow(panels: { grid: Grid }[], w = 6, h = 8): Grid {
  const bottom = panels.reduce((lowest, panel) => Math.max(lowest, panel.grid.y + panel.grid.h), 0);
  return { x: 0, y: bottom, w, h };
}

/** Keeps a grid position inside the dashboard's 12 columns and the height limits the API takes. */
export function clampGrid(grid: Grid): Grid {
  const w = Math.min(GRID_COLUMNS, Math.max(1, Math.round(grid.w)));
  const x = Math.min(GRID_COLUMNS - w, Math.max(0, Math.round(grid.x)));
  const y = Math.max(0, Math.round(grid.y));
  const h = Math.min(MAX_PANEL_HEIGHT, Math.max(MIN_PANEL_HEIGHT, Math.round(grid.h)));
  return { x, y, w, h };
}

/** The panels with the positions and sizes of a layout from the grid (items matched by panel id). */
export function applyLayout<P extends { id: string; grid: Grid }>(panels: P[], layout: readonly { i: string; x: number; y: number; w: number; h: number }[]): P[] {
  const byId = new Map(layout.map((item) => [item.i, item]));
  return panels.map((panel) => {
    const item = byId.get(panel.id);
    if (item === undefined) return panel;
    const grid = clampGrid(item);
    const same = grid.x === panel.grid.x && grid.y === panel.grid.y && grid.w === panel.grid.w && grid.h === panel.grid.h;
    return same ? panel : { ...panel, grid };
  });
}

/** "+12 %" / "−40 %" / "no change" for the change of a metric against the previous period of the same length. */
export function formatChange(data: { value: number; change: number | null }): { text: string; direction: 'up' | 'down' | 'same' | 'new' } {
  if (data.change === null) return data.value === 0 ? { text: 'no events in either period', direction: 'same' } : { text: 'none in the previous period', direction: 'new' };
  const percent = Math.round(data.change * 1000) / 10;
  if (percent === 0) return { text: 'no change', direction: 'same' };
  return { text: `${percent > 0 ? '+' : '−'}${Math.abs(percent)} %`, direction: percent > 0 ? 'up' : 'down' };
}

/** A share 0..1 as a percentage with one decimal. */
export function formatShare(share: number): string {
  return `${(Math.round(share * 1000) / 10).toFixed(1)} %`;
}

/** The title of a copy, as the API makes it when none is given. */
export const copyTitle = (title: string): string => `Copy of ${title}`;

