// Where the keyboard's focus is in the network graph, where a key moves it, the words that say
// what it is, and the ring drawn round it (netkeys.js handles the keys). An item is a neuron
// {layer, neuron} or the edge {layer, from, to} from neuron `from` of layer − 1 to neuron `to`.
//   ↑ ↓ Home End   the neurons of a layer; on a weight, the other incoming weights of its neuron
//   ← →            the layers (to the nearest neuron); on a weight, its two ends
//   E, Shift+E     the next / previous incoming weight of a neuron; Esc from a weight to its neuron
//   moveFocus(item, event, sizes, g) -> the next item, or null for a key that is not the graph's
//   describe(item, structure, arrays) -> "layer 1, neuron 2 of 4: bias 0.1200"
//   anchor(item, g) -> [x, y] beside the item; drawFocus(ctx, item, g, arrays)
import { cssColor } from "./colors.js";
import { edgeWidth, isStraight, traceEdge } from "./netgeometry.js";

export const KEYS_HELP = "↑ ↓ move between the neurons of a layer, ← → between layers, E steps through a neuron's "
  + "incoming weights, Enter edits the bias or weight, Esc goes back";
const FOCUS = "#1558b0";   // style.css --focus

const clamp = (i, n) => Math.max(0, Math.min(n - 1, i));

// The neuron of layer `to` whose centre is nearest the height of neuron j of layer `from`.
function nearest(g, from, j, to) {
  const y = g.ys[from][j];
  let best = 0;
  g.ys[to].forEach((yk, k) => { if (Math.abs(yk - y) < Math.abs(g.ys[to][best] - y)) best = k; });
  return best;
}

export function moveFocus(item, event, sizes, g) {
  const { layer: l } = item;
  const L = sizes.length - 1;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (item.from === undefined) {
    const j = item.neuron, n = sizes[l];
    const to = (k) => ({ layer: l, neuron: clamp(k, n) });
    switch (key) {
      case "ArrowUp": return to(j - 1);
      case "ArrowDown": return to(j + 1);
      case "Home": return to(0);
      case "End": return to(n - 1);
      case "ArrowLeft": return l > 0 ? { layer: l - 1, neuron: nearest(g, l, j, l - 1) } : item;
      case "ArrowRight": return l < L ? { layer: l + 1, neuron: nearest(g, l, j, l + 1) } : item;
      case "e": return l > 0 ? { layer: l, from: event.shiftKey ? sizes[l - 1] - 1 : 0, to: j } : item;
      default: return null;
    }
  }
  const n = sizes[l - 1];
  const edge = (k) => ({ layer: l, from: k, to: item.to });
  switch (key) {
    case "ArrowUp": return edge(clamp(item.from - 1, n));
    case "ArrowDown": return edge(clamp(item.from + 1, n));
    case "Home": return edge(0);
    case "End": return edge(n - 1);
    case "e": return edge((item.from + (event.shiftKey ? n - 1 : 1)) % n);
    case "ArrowLeft": return { layer: l - 1, neuron: item.from };
    case "ArrowRight": case "Escape": return { layer: l, neuron: item.to };
    default: return null;
  }
}

// Does the item still exist in a network of these layer sizes?
export function fits(item, sizes) {
  if (item.layer >= sizes.length) return false;
  if (item.from === undefined) return item.neuron < sizes[item.layer];
  return item.layer > 0 && item.from < sizes[item.layer - 1] && item.to < sizes[item.layer];
}

export function neuronName(l, j, structure) {
  const sizes = structure.sizes, L = sizes.length - 1;
  if (l === 0) return `input ${structure.inputNames?.[j] ?? j + 1}`;
  if (l === L) return sizes[L] === 1 ? "the output neuron" : `output neuron ${j + 1}`;
  return `layer ${l}, neuron ${j + 1}`;
}

const shown = (v) => (Number.isFinite(v) ? v.toFixed(4) : "not drawn yet");

export function weightOf(item, arrays) {
  const W = arrays?.[`W${item.layer}`];
  return W ? W[item.from * W.shape[1] + item.to] : NaN;
}

// "weight from input x₁ to layer 1, neuron 2", "the bias of layer 1, neuron 2"
export function itemName(item, structure) {
  const { layer: l } = item;
  if (item.from !== undefined) return `weight from ${neuronName(l - 1, item.from, structure)} to ${neuronName(l, item.to, structure)}`;
  return `the bias of ${neuronName(l, item.neuron, structure)}`;
}

export function describe(item, structure, arrays) {
  const { layer: l } = item;
  if (item.from !== undefined) {
    return `${itemName(item, structure)}: ${shown(weightOf(item, arrays))} (incoming weight ${item.from + 1} of ${structure.sizes[l - 1]})`;
  }
  const j = item.neuron, n = structure.sizes[l];
  const name = `${neuronName(l, j, structure)}${n > 1 ? ` of ${n}` : ""}`;
  if (l === 0) return `${name}: a feature fed into the network, no bias, no incoming weights`;
  return `${name}: bias ${shown(arrays?.[`b${l}`]?.[j])}`;
}

// Where the zoom or tip of the item goes: right of a neuron; under the middle of an edge, below
// both its ends so that the edge stays in sight.
export function anchor(item, g) {
  const { layer: l } = item;
  if (item.from === undefined) return [g.xs[l] + g.size, g.ys[l][item.neuron]];
  const x0 = g.xs[l - 1] + g.size, x1 = g.xs[l];
  return [(x0 + x1) / 2, Math.max(g.ys[l - 1][item.from], g.ys[l][item.to]) + g.size + g.biasHeight + 8];
}

// A ring in the page's focus colour round the neuron and its bias bar; an edge is drawn again in
// its own colour inside a white band and a focus-coloured outline, its two ends ringed with dashes.
export function drawFocus(ctx, item, g, arrays) {
  ctx.save();
  ctx.strokeStyle = FOCUS;
  ctx.lineWidth = 3;
  const ring = (l, j) => {
    const extra = l > 0 ? g.biasHeight + 3 : 0;
    ctx.strokeRect(g.xs[l] - 4, g.ys[l][j] - 4, g.size + 8, g.size + 8 + extra);
  };
  if (item.from === undefined) {
    ring(item.layer, item.neuron);
  } else {
    const W = arrays?.[`W${item.layer}`];
    const w = weightOf(item, arrays);
    const path = new Path2D();
    traceEdge(path, g, item.layer, item.from, item.to, W ? isStraight(...W.shape) : false);
    const width = Math.max(2, edgeWidth(Number.isFinite(w) ? w : 0, g.edgeScale));
    for (const [color, extra] of [[FOCUS, 8], ["#fff", 4], [cssColor(Math.sign(w) * Math.min(1, 0.35 + Math.abs(w) / 2)), 0]]) {
      ctx.strokeStyle = color;
      ctx.lineWidth = width + extra;
      ctx.stroke(path);
    }
    ctx.strokeStyle = FOCUS;
    ctx.lineWidth = 2;
    ctx.setLineDash([4, 3]);
    ring(item.layer - 1, item.from);
    ring(item.layer, item.to);
  }
  ctx.restore();
}
