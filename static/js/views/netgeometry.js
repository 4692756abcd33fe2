// Where the network view puts things, and its edges: the layout of the columns and neurons, the
// curves between them (drawn in buckets), and which edge lies under the mouse.
//   layout(structure, width, height) -> {xs, ys, size, pitch, biasHeight, edgeScale}
//   drawEdges(ctx, W, l, g)           the edges into layer l, coloured by sign, thicker for larger |w|
//   edgeAt(g, sizes, arrays, mx, my)  -> {layer, from, to, value} | null
//   traceEdge(path, g, l, j, k, straight)  adds the edge from neuron j of layer l − 1 to k of l
//   edgeWidth(w, scale), isStraight(nIn, nOut)
import { cssColor } from "./colors.js";

const HEAD = 54;          // room for the layer headings
const LEFT = 64;          // room for the input feature names
const RIGHT = 24;
const LEVELS = 8;         // edge thickness steps
const STRAIGHT_ABOVE = 4000;  // more edges than this between two layers are drawn straight

// The cubic Bézier used for every edge: from (x0, y0) to (x1, y1), both control points at the
// middle x, so the curve leaves and enters horizontally. Along the curve, with t in [0, 1]:
//   (x − x0) / (x1 − x0) = 1.5t − 1.5t² + t³   and   (y − y0) / (y1 − y0) = 3t² − 2t³.
function curveT(u) {
  let lo = 0, hi = 1;
  for (let i = 0; i < 30; i++) {
    const t = (lo + hi) / 2;
    if (1.5 * t - 1.5 * t * t + t * t * t < u) lo = t; else hi = t;
  }
  return (lo + hi) / 2;
}

export function edgeWidth(w, scale) {
  return Math.max(0.4, Math.min(Math.abs(w), 4) * 1.8 * scale);
}

export function layout(structure, width, height) {
  const sizes = structure.sizes;
  const columns = sizes.length;
  const widest = Math.max(...sizes);
  const usable = height - HEAD - 12;
  const spacing = columns > 1 ? (width - LEFT - RIGHT) / (columns - 1) : 0;
  const pitch = Math.min(64, usable / widest);
  const size = Math.max(3, Math.floor(Math.min(46, pitch * 0.76, spacing * 0.4)));
  const xs = sizes.map((_, i) => LEFT + i * (columns > 1 ? (width - LEFT - RIGHT - size) / (columns - 1) : 0));
  const ys = sizes.map((n) => Array.from({ length: n }, (_, j) => HEAD + 6 + j * pitch));
  const biasHeight = Math.max(3, Math.min(6, pitch - size - 3));
  return { xs, ys, size, pitch, biasHeight, edgeScale: Math.min(1, size / 24) };
}

export const isStraight = (nIn, nOut) => nIn * nOut > STRAIGHT_ABOVE;

export function traceEdge(path, g, l, j, k, straight) {
  const x0 = g.xs[l - 1] + g.size, x1 = g.xs[l], xm = (x0 + x1) / 2;
  const y0 = g.ys[l - 1][j] + g.size / 2, y1 = g.ys[l][k] + g.size / 2;
  path.moveTo(x0, y0);
  if (straight) path.lineTo(x1, y1); else path.bezierCurveTo(xm, y0, xm, y1, x1, y1);
}

// Edges are bucketed by sign and |w| (steps of 1/2 up to 4) and each bucket is stroked once:
// thousands of edges cost a few dozen strokes.
export function drawEdges(ctx, W, l, g) {
  if (!W) return;
  const [nIn, nOut] = W.shape;
  const straight = isStraight(nIn, nOut);
  const paths = new Array(2 * LEVELS);
  for (let j = 0; j < nIn; j++) {
    for (let k = 0; k < nOut; k++) {
      const w = W[j * nOut + k];
      const bucket = (w < 0 ? 0 : LEVELS) + Math.min(LEVELS - 1, Math.floor(Math.abs(w) * 2));
      traceEdge(paths[bucket] ??= new Path2D(), g, l, j, k, straight);
    }
  }
  const alpha = nIn * nOut > 500 ? 0.4 : 0.85;     // dense layers: see through the mesh
  for (let level = 0; level < LEVELS; level++) {   // thin first, so thick edges lie on top
    const magnitude = (level + 0.5) / 2;
    ctx.lineWidth = edgeWidth(magnitude, g.edgeScale);
    for (const sign of [-1, 1]) {
      const path = paths[(sign < 0 ? 0 : LEVELS) + level];
      if (!path) continue;
      ctx.strokeStyle = cssColor(sign * Math.min(1, 0.35 + magnitude / 2), alpha);
      ctx.stroke(path);
    }
  }
}

// The edge under the point (mx, my) of geometry g, or null: {layer, from, to, value}.
export function edgeAt(g, sizes, arrays, mx, my) {
  for (let l = 1; l < sizes.length; l++) {
    const x0 = g.xs[l - 1] + g.size, x1 = g.xs[l];
    if (mx < x0 || mx > x1) continue;
    const W = arrays[`W${l}`];
    if (!W) return null;
    const [nIn, nOut] = W.shape;
    const straight = isStraight(nIn, nOut);
    const u = (mx - x0) / (x1 - x0);
    const t = straight ? u : curveT(u);
    const s = straight ? u : 3 * t * t - 2 * t * t * t;
    const ds = straight ? 1 : (6 * t - 6 * t * t) / (1.5 - 3 * t + 3 * t * t);  // dy/dx ∝ this
    let best = null, bestDistance = Infinity;
    for (let j = 0; j < nIn; j++) {
      const y0 = g.ys[l - 1][j] + g.size / 2;
      for (let k = 0; k < nOut; k++) {
        const y1 = g.ys[l][k] + g.size / 2;
        const slope = ((y1 - y0) / (x1 - x0)) * ds;
        const distance = Math.abs(my - (y0 + (y1 - y0) * s)) / Math.hypot(1, slope);
        const w = W[j * nOut + k];
        if (distance < bestDistance && distance <= Math.max(4, edgeWidth(w, g.edgeScale) / 2 + 2)) {
          best = { layer: l, from: j, to: k, value: w };
          bestDistance = distance;
        }
      }
    }
    return best;
  }
  return null;
}

