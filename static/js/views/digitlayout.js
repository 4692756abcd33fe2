// Where the digit network view (views/digitnet.js) puts each layer: the input image, a column of
// feature-map tiles for every conv and pool layer, a column of cells for every hidden dense layer,
// the outputs; a flatten layer has no column of its own (its values are the maps before it, in
// (row, column, channel) order). Also the centre of any neuron and the neuron under a point.
// layoutOf(layers, width, height) -> {width, columns}; centre(layout, l, index) -> [x, y];
// hitTest(layout, x, y) -> {layer, index} | null. `layers`: [{type, shape}], the input first
// (type "input", shape [H, W, C]); a map column's index is a channel, a cell column's a neuron.

const MAX_ROWS = 16;          // cells of a dense column
const MAP_ROWS = [8, 16, 32];  // feature-map tiles of a conv or pool column: 8 rows, more where the view is narrow
const MAP_GAP = 4;
const MARGIN = 8;

function mapColumn(shape, rows) {
  const [, , C] = shape;
  return { kind: "maps", shape, rows: Math.min(C, rows), cols: Math.ceil(C / Math.min(C, rows)) };
}

function cellColumn(n) {
  const rows = Math.min(n, MAX_ROWS);
  return { kind: "cells", rows, cols: Math.ceil(n / rows) };
}

export function layoutOf(layers, width, height) {
  const top = 22, bottom = 30, usable = height - top - bottom;
  const L = layers.length - 1;
  const [H, W] = layers[0].shape;
  // the input image takes at most a quarter of a narrow view (a phone), a seventh next to feature
  // maps, so the layers keep room
  const maps = layers.some((layer, l) => l > 0 && layer.shape.length === 3);
  const inputScale = Math.max(2, Math.min(6, Math.floor(usable / H / 1.4), Math.floor(width / (maps ? 7 : 4) / W)));
  const inputW = W * inputScale, inputH = H * inputScale, outputWidth = width < 480 ? 72 : 92;
  const between = width < 640 ? 8 : 16;   // the least space between two columns
  let best = null;
  for (const rows of MAP_ROWS) {   // the rows of tiles that give the largest tiles: as tall as the column
    const columns = layers.map((layer, l) => {   // allows, as wide as the view allows
      if (l === 0) return { kind: "input", shape: layer.shape };
      if (l === L) return { kind: "output", rows: layer.shape[0], cols: 1 };
      if (layer.type === "flatten") return { kind: "alias", of: l - 1 };
      return layer.shape.length === 3 ? mapColumn(layer.shape, rows) : cellColumn(layer.shape[0]);
    });
    const shown = columns.filter((c) => c.kind !== "alias");
    const mapCols = shown.filter((c) => c.kind === "maps").reduce((s, c) => s + c.cols, 0);
    const cellCols = shown.filter((c) => c.kind === "cells").reduce((s, c) => s + c.cols, 0);
    const free = width - 2 * MARGIN - inputW - outputWidth - between * (shown.length - 1);
    const fromHeight = Math.floor((usable - (rows - 1) * MAP_GAP) / rows);
    const fromWidth = mapCols ? Math.floor((free * 0.75) / mapCols) - MAP_GAP : Infinity;
    const tile = mapCols ? Math.max(4, Math.min(48, fromHeight, fromWidth)) : 0;
    if (!best || tile > best.tile) best = { columns, mapCols, cellCols, free, tile };
  }
  const { columns, mapCols, cellCols, free, tile } = best;
  const gaps = columns.filter((c) => c.kind !== "alias").length - 1;
  const left = free - mapCols * (tile + MAP_GAP);
  const cell = Math.max(2, Math.min(20, Math.floor(usable / MAX_ROWS), Math.floor((left * 0.55) / Math.max(1, cellCols))));
  const used = inputW + outputWidth + mapCols * (tile + MAP_GAP) + cellCols * cell;
  const gap = gaps ? (width - 2 * MARGIN - used) / gaps : 0;
  let x = MARGIN;
  for (const c of columns) {
    if (c.kind === "alias") continue;
    if (c.kind === "input") Object.assign(c, { x, y: top + (usable - inputH) / 2, w: inputW, h: inputH, scale: inputScale });
    else if (c.kind === "maps") {
      const [h, w] = c.shape, side = tile / Math.max(h, w);
      const tw = w * side, th = h * side, ch = c.rows * th + (c.rows - 1) * MAP_GAP;
      Object.assign(c, { x, y: top + (usable - ch) / 2, w: c.cols * (tw + MAP_GAP) - MAP_GAP, h: ch, tw, th, pixel: side });
    } else if (c.kind === "cells") {
      const ch = c.rows * cell;
      Object.assign(c, { x, y: top + (usable - ch) / 2, w: c.cols * cell, h: ch, cell });
    } else {
      const outCell = Math.min(34, Math.floor(usable / c.rows));
      Object.assign(c, { x: width - outputWidth - MARGIN, y: top + (usable - c.rows * outCell) / 2, w: outputWidth,
        h: c.rows * outCell, cell: outCell });
    }
    if (c.kind !== "output") x += c.w + gap;
  }
  return { width, height, columns };
}

// The column that draws layer l (a flatten layer's is the maps column before it), and its index.
export function columnOf(layout, l) {
  let c = layout.columns[l];
  while (c.kind === "alias") { l = c.of; c = layout.columns[l]; }
  return [c, l];
}

// The top-left corner of map tile `channel` of a maps column.
export function tileAt(c, channel) {
  const col = Math.floor(channel / c.rows), row = channel % c.rows;
  return [c.x + col * (c.tw + MAP_GAP), c.y + row * (c.th + MAP_GAP)];
}

// Centre of value `index` of layer l: an input pixel, a map pixel ((y, x, channel) order), a cell.
export function centre(layout, l, index) {
  const [c] = columnOf(layout, l);
  if (c.kind === "input") {
    const W = c.shape[1];
    return [c.x + ((index % W) + 0.5) * c.scale, c.y + (Math.floor(index / W) + 0.5) * c.scale];
  }
  if (c.kind === "maps") {
    const [, W, C] = c.shape;
    const channel = index % C, x = Math.floor(index / C) % W, y = Math.floor(index / (C * W));
    const [tx, ty] = tileAt(c, channel);
    return [tx + (x + 0.5) * c.pixel, ty + (y + 0.5) * c.pixel];
  }
  if (c.kind === "output") return [c.x + c.cell / 2, c.y + (index + 0.5) * c.cell];
  const col = Math.floor(index / c.rows), row = index % c.rows;
  return [c.x + (col + 0.5) * c.cell, c.y + (row + 0.5) * c.cell];
}

// The centre of a whole map tile or cell: where a line to the selected map or neuron ends.
export function unitCentre(layout, l, index) {
  const [c] = columnOf(layout, l);
  if (c.kind === "maps") {
    const [tx, ty] = tileAt(c, index);
    return [tx + c.tw / 2, ty + c.th / 2];
  }
  if (c.kind === "input") return [c.x + c.w / 2, c.y + c.h / 2];
  return centre(layout, l, index);
}

// The map or neuron under (px, py): {layer, index}, or null.
export function hitTest(layout, px, py, sizes) {
  for (let l = 1; l < layout.columns.length; l++) {
    const c = layout.columns[l];
    if (c.kind === "alias" || px < c.x || px >= c.x + c.w || py < c.y || py >= c.y + c.h) continue;
    if (c.kind === "maps") {
      const col = Math.floor((px - c.x) / (c.tw + MAP_GAP)), row = Math.floor((py - c.y) / (c.th + MAP_GAP));
      const index = col * c.rows + row;
      if (index < c.shape[2]) return { layer: l, index };
      continue;
    }
    const row = Math.floor((py - c.y) / c.cell), col = c.kind === "output" ? 0 : Math.floor((px - c.x) / c.cell);
    const index = col * c.rows + row;
    if (index < sizes[l]) return { layer: l, index };
  }
  return null;
}

// The keyboard's next item from `item` ({layer, index} or null) for `key`: ↑ ↓ within a layer's maps
// or neurons, ← → to the previous or next drawn layer (at the same relative place), Home / End to
// a layer's first or last. Null when the key does not move. sizes[l]: layer l's values.
export function keyMove(layout, sizes, item, key) {
  const layers = layout.columns.map((c, l) => l).filter((l) => l > 0 && layout.columns[l].kind !== "alias");
  const count = (l) => (layout.columns[l].kind === "maps" ? layout.columns[l].shape[2] : sizes[l]);
  if (!item) return ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End"].includes(key)
    ? { layer: layers[0], index: 0 } : null;
  const { layer, index } = item, n = count(layer), at = layers.indexOf(layer);
  if (key === "ArrowUp") return { layer, index: Math.max(index - 1, 0) };
  if (key === "ArrowDown") return { layer, index: Math.min(index + 1, n - 1) };
  if (key === "Home") return { layer, index: 0 };
  if (key === "End") return { layer, index: n - 1 };
  if (key !== "ArrowLeft" && key !== "ArrowRight") return null;
  const next = layers[Math.min(Math.max(at + (key === "ArrowRight" ? 1 : -1), 0), layers.length - 1)];
  const m = count(next);
  return { layer: next, index: Math.min(Math.floor(((index + 0.5) / n) * m), m - 1) };
}
