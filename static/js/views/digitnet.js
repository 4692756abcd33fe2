// The digit network, layer by layer: the 28×28 input the network saw, every hidden neuron as a
// cell lit by its activation, the ten outputs, and between layers the strongest contributions
// a_i · w_ij (top k by |a_i · w_ij|; orange excites, blue inhibits). Clicking a neuron selects it:
// its own strongest incoming contributions are drawn instead, and onSelect({layer, index}) fires.
// createDigitNet(element, {height, onSelect})
//   -> {update({sizes, activationNames, activations, weights, selected}), destroy()}
// sizes [n_0, ..., n_L]; activations: one array per layer, the input (n_0 = 784) first, or null
// when there is nothing to show; weights: one Float32Array (n_{l-1} · n_l, row-major) per layer,
// or null while they are unknown; selected: {layer (1-based), index} or null.
import { fitCanvas, frameScheduler } from "../frame.js";
import { NEG, POS } from "./colors.js";
import { paintGrey } from "./grey.js";

const EDGES_PER_LAYER = 80;
const EDGES_PER_NEURON = 48;
const MAX_ROWS = 16;
const BOUNDED = new Set(["sigmoid", "softmax", "tanh"]); // activations already in [-1, 1]
const COLORS = {
  background: "#18222a", off: "#263440", text: "#b8c7d1", strong: "#ffffff",
  pos: POS, neg: NEG, lit: [255, 206, 84],
};

// Indices of the k largest values of `scores` (a typed array), best first.
export function topK(scores, k) {
  const heap = new Int32Array(Math.min(k, scores.length)); // min-heap of indices by score
  let size = 0;
  const less = (a, b) => scores[heap[a]] < scores[heap[b]];
  const swap = (a, b) => { const t = heap[a]; heap[a] = heap[b]; heap[b] = t; };
  function down(i) {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < size && less(l, m)) m = l;
      if (r < size && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m); i = m;
    }
  }
  for (let i = 0; i < scores.length; i++) {
    if (size < heap.length) {
      heap[size] = i;
      for (let c = size++; c > 0;) { const p = (c - 1) >> 1; if (!less(c, p)) break; swap(c, p); c = p; }
    } else if (heap.length && scores[i] > scores[heap[0]]) {
      heap[0] = i; down(0);
    }
  }
  return Array.from(heap.subarray(0, size)).sort((a, b) => scores[b] - scores[a]);
}

// What a neuron looks for, as 784 input weights: for layer 1 its column of W¹; deeper, the
// incoming weights pulled back through the layers below, v = W¹ W² ⋯ e_j (the nonlinearities
// ignored, so it is a sketch of the linear part only).
export function neuronImage(sizes, weights, layer, index) {
  let v = new Float32Array(sizes[layer]);
  v[index] = 1;
  for (let l = layer; l >= 1; l--) {
    const W = weights[l - 1], nIn = sizes[l - 1], nOut = sizes[l];
    const u = new Float32Array(nIn);
    for (let i = 0; i < nIn; i++) {
      let s = 0;
      for (let j = 0; j < nOut; j++) s += W[i * nOut + j] * v[j];
      u[i] = s;
    }
    v = u;
  }
  return v;
}

export function createDigitNet(element, options = {}) {
  const { height = 400, onSelect = () => {} } = options;
  const canvas = document.createElement("canvas");
  canvas.className = "digitnet-canvas";
  element.append(canvas);
  let state = { sizes: null, activationNames: [], activations: null, weights: null, selected: null };
  let layout = null;
  let edges = null; // per layer: [{i, j, c}] strongest contributions, or null
  let edgesStale = false;
  let hover = null;
  let ctx = null, sized = "";
  const tile = document.createElement("canvas"); // the 28×28 input, drawn scaled up
  tile.width = tile.height = 28;
  let inputPainted; // the activations the tile shows

  function paintInput(activations) {
    paintGrey(tile, activations ? activations[0] : null);
    inputPainted = activations;
  }

  function computeLayout(width) {
    const { sizes } = state;
    const L = sizes.length - 1;
    const top = 22, bottom = 30, usable = height - top - bottom;
    // the input image takes at most a quarter of a narrow view (a phone), so the layers keep room
    const inputScale = Math.max(2, Math.min(6, Math.floor(usable / 28 / 1.4), Math.floor(width / 4 / 28)));
    const columns = [];
    // the input image
    const inputSide = 28 * inputScale;
    columns.push({ x: 8, y: top + (usable - inputSide) / 2, w: inputSide, h: inputSide, scale: inputScale });
    const outputWidth = width < 480 ? 72 : 92;
    const free = width - 8 - inputSide - outputWidth - 8;
    const hiddenWidths = sizes.slice(1, L).map((n) => Math.ceil(n / Math.min(n, MAX_ROWS)));
    const cell = Math.max(2, Math.min(20, Math.floor(usable / MAX_ROWS),
      Math.floor((free * 0.55) / Math.max(1, hiddenWidths.reduce((a, b) => a + b, 0)))));
    const gaps = L; // spaces between columns
    const gapWidth = (free - hiddenWidths.reduce((a, b) => a + b, 0) * cell) / gaps;
    let x = 8 + inputSide + gapWidth;
    for (let l = 1; l < L; l++) {
      const n = sizes[l], rows = Math.min(n, MAX_ROWS), cols = Math.ceil(n / rows);
      const h = rows * cell;
      columns.push({ x, y: top + (usable - h) / 2, w: cols * cell, h, rows, cols, cell });
      x += cols * cell + gapWidth;
    }
    const n = sizes[L];
    const outCell = Math.min(34, Math.floor(usable / n));
    columns.push({ x: width - outputWidth - 8, y: top + (usable - n * outCell) / 2, w: outputWidth, h: n * outCell, rows: n, cols: 1, cell: outCell, output: true });
    return { width, columns };
  }

  // Centre of neuron `index` of layer `l` (l = 0 is the input image: one point per pixel).
  function centre(l, index) {
    const c = layout.columns[l];
    if (l === 0) return [c.x + ((index % 28) + 0.5) * c.scale, c.y + (Math.floor(index / 28) + 0.5) * c.scale];
    if (c.output) return [c.x + c.cell / 2, c.y + (index + 0.5) * c.cell];
    const col = Math.floor(index / c.rows), row = index % c.rows;
    return [c.x + (col + 0.5) * c.cell, c.y + (row + 0.5) * c.cell];
  }

  function computeEdges() {
    const { sizes, activations, weights, selected } = state;
    edges = null;
    if (!activations || !weights) return;
    edges = [];
    for (let l = 1; l < sizes.length; l++) {
      const W = weights[l - 1], a = activations[l - 1], nIn = sizes[l - 1], nOut = sizes[l];
      if (!W) { edges.push(null); continue; }
      const only = selected && selected.layer === l ? selected.index : -1;
      const contributions = new Float32Array(only >= 0 ? nIn : nIn * nOut);
      if (only >= 0) {
        for (let i = 0; i < nIn; i++) contributions[i] = a[i] * W[i * nOut + only];
      } else {
        for (let i = 0; i < nIn; i++) {
          const ai = a[i];
          if (ai === 0) continue;
          for (let j = 0; j < nOut; j++) contributions[i * nOut + j] = ai * W[i * nOut + j];
        }
      }
      const magnitude = contributions.map(Math.abs);
      const best = topK(magnitude, only >= 0 ? EDGES_PER_NEURON : EDGES_PER_LAYER);
      edges.push(best.filter((k) => magnitude[k] > 0).map((k) => (only >= 0
        ? { i: k, j: only, c: contributions[k] }
        : { i: Math.floor(k / nOut), j: k % nOut, c: contributions[k] })));
    }
  }

  // The brightness scale of layer l: 1 for activations bounded by 1, else the layer's largest |a|.
  function scaleOf(l) {
    if (BOUNDED.has(state.activationNames[l - 1])) return 1;
    let m = 0;
    for (const v of state.activations[l]) m = Math.max(m, Math.abs(v));
    return m > 0 ? 1 / m : 0;
  }

  function mix(rgb, t) {
    const off = [38, 52, 64];
    const s = Math.min(Math.abs(t), 1);
    return `rgb(${off.map((o, k) => Math.round(o + (rgb[k] - o) * s)).join(",")})`;
  }

  function draw() {
    const width = Math.max(240, element.clientWidth);
    // resizing a canvas reallocates it: only when the size or the pixel ratio changed
    if (!ctx || sized !== `${width}×${window.devicePixelRatio}`) {
      ctx = fitCanvas(canvas, width, height);
      sized = `${width}×${window.devicePixelRatio}`;
    }
    ctx.fillStyle = COLORS.background;
    ctx.fillRect(0, 0, width, height);
    if (!state.sizes) return;
    if (!layout || layout.width !== width) layout = computeLayout(width);
    if (edgesStale) { computeEdges(); edgesStale = false; }
    const { sizes, activations, selected } = state;
    const L = sizes.length - 1;

    // edges, weakest first so the strongest lie on top
    if (edges) {
      edges.forEach((list, k) => {
        if (!list || !list.length) return;
        const l = k + 1, strongest = Math.abs(list[0].c);
        for (let e = list.length - 1; e >= 0; e--) {
          const { i, j, c } = list[e];
          const s = Math.abs(c) / strongest;
          const [x0, y0] = centre(l - 1, i), [x1, y1] = centre(l, j);
          const rgb = c > 0 ? COLORS.pos : COLORS.neg;
          ctx.strokeStyle = `rgba(${rgb.join(",")},${(0.15 + 0.75 * s).toFixed(3)})`;
          ctx.lineWidth = 0.5 + 2 * s;
          ctx.beginPath();
          ctx.moveTo(x0, y0);
          ctx.bezierCurveTo((x0 + x1) / 2, y0, (x0 + x1) / 2, y1, x1 - (layout.columns[l].output ? 12 : 0), y1);
          ctx.stroke();
        }
      });
    }

    // the input image
    const input = layout.columns[0];
    if (inputPainted !== activations) paintInput(activations);
    ctx.imageSmoothingEnabled = false;
    ctx.globalAlpha = 0.92;
    ctx.drawImage(tile, input.x, input.y, input.w, input.h);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = "#3b4b58";
    ctx.lineWidth = 1;
    ctx.strokeRect(input.x - 0.5, input.y - 0.5, input.w + 1, input.h + 1);

    // hidden layers
    for (let l = 1; l < L; l++) {
      const c = layout.columns[l];
      const a = activations ? activations[l] : null;
      const k = a ? scaleOf(l) : 0;
      const pad = Math.max(1, c.cell * 0.12);
      for (let n = 0; n < sizes[l]; n++) {
        const t = a ? k * a[n] : 0;
        ctx.fillStyle = t < 0 ? mix(COLORS.neg, t) : mix(COLORS.lit, t);
        const [cx, cy] = centre(l, n);
        ctx.fillRect(cx - c.cell / 2 + pad, cy - c.cell / 2 + pad, c.cell - 2 * pad, c.cell - 2 * pad);
      }
    }

    // outputs: a dot and the digit, lit by its probability
    const out = layout.columns[L];
    const p = activations ? activations[L] : null;
    const best = p ? p.indexOf(Math.max(...p)) : -1;
    const k = p ? scaleOf(L) : 0;
    ctx.textBaseline = "middle";
    for (let n = 0; n < sizes[L]; n++) {
      const [cx, cy] = centre(L, n);
      const t = p ? k * p[n] : 0;
      const r = Math.min(out.cell * 0.38, 12);
      ctx.fillStyle = mix(COLORS.lit, t);
      ctx.beginPath(); ctx.arc(cx, cy, r, 0, 2 * Math.PI); ctx.fill();
      ctx.font = `${n === best ? "700 " : ""}${Math.round(r * 1.5)}px system-ui, sans-serif`;
      ctx.fillStyle = n === best ? COLORS.strong : COLORS.text;
      ctx.textAlign = "left";
      ctx.fillText(String(n), cx + r + 8, cy + 1);
      if (p) {
        ctx.font = "10px system-ui, sans-serif";
        ctx.fillStyle = COLORS.text;
        ctx.fillText(`${Math.round(100 * p[n])}%`, cx + r + 26, cy + 1);
      }
    }

    // the selected and the hovered neuron
    for (const [target, color] of [[hover, "#ffffff88"], [selected, "#ffffff"]]) {
      if (!target || target.layer < 1 || target.layer > L || target.index >= sizes[target.layer]) continue;
      const c = layout.columns[target.layer];
      const [cx, cy] = centre(target.layer, target.index);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      if (c.output) { ctx.beginPath(); ctx.arc(cx, cy, Math.min(c.cell * 0.38, 12) + 3, 0, 2 * Math.PI); ctx.stroke(); }
      else ctx.strokeRect(cx - c.cell / 2, cy - c.cell / 2, c.cell, c.cell);
    }

    // captions under the columns; where two would touch (a narrow view), every other one goes on top
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = COLORS.text;
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    let previousRight = -Infinity, lastOnTop = true;
    layout.columns.forEach((c, l) => {
      const name = l === 0 ? `input ${sizes[0]}` : l === L ? `output ${sizes[l]}` : `hidden ${sizes[l]}`;
      const f = l === 0 ? "28 × 28" : state.activationNames[l - 1] ?? "";
      const half = Math.max(ctx.measureText(name).width, ctx.measureText(f).width) / 2 + 3;
      const x = Math.min(Math.max(c.x + c.w / 2, half), width - half);
      const onTop = x - half < previousRight && !lastOnTop;
      const y = onTop ? 12 : height - 16;
      if (!onTop) previousRight = x + half;
      lastOnTop = onTop;
      ctx.fillText(name, x, y);
      ctx.fillStyle = "#7d8f9b";
      if (!onTop) ctx.fillText(f, x, y + 12);
      ctx.fillStyle = COLORS.text;
    });
  }
  const scheduler = frameScheduler(draw);

  // The neuron under a point, or null.
  function hit(event) {
    if (!layout) return null;
    const rect = canvas.getBoundingClientRect();
    const px = event.clientX - rect.left, py = event.clientY - rect.top;
    for (let l = 1; l < layout.columns.length; l++) {
      const c = layout.columns[l];
      if (px < c.x || px >= c.x + c.w || py < c.y || py >= c.y + c.h) continue;
      const row = Math.floor((py - c.y) / c.cell), col = c.output ? 0 : Math.floor((px - c.x) / c.cell);
      const index = col * c.rows + row;
      if (index < state.sizes[l]) return { layer: l, index };
    }
    return null;
  }
  function onClick(event) {
    const target = hit(event);
    if (target) onSelect(target);
  }
  function onMove(event) {
    const target = hit(event);
    if (target?.layer !== hover?.layer || target?.index !== hover?.index) {
      hover = target;
      canvas.style.cursor = target ? "pointer" : "";
      canvas.title = target ? describe(target) : "";
      scheduler.request();
    }
  }
  function describe({ layer, index }) {
    const L = state.sizes.length - 1;
    const name = layer === L ? `output ${index}` : `layer ${layer}, neuron ${index}`;
    const a = state.activations?.[layer]?.[index];
    return a === undefined ? name : `${name}: a = ${a.toFixed(3)}`;
  }
  canvas.addEventListener("click", onClick);
  canvas.addEventListener("mousemove", onMove);
  const resize = new ResizeObserver(() => scheduler.request());
  resize.observe(element);

  return {
    update(next) {
      const structural = next.sizes && (!state.sizes || next.sizes.join() !== state.sizes.join());
      state = { ...state, ...next };
      if (structural) layout = null;
      if (["activations", "weights", "selected", "sizes"].some((k) => k in next)) edgesStale = true;
      scheduler.request();
    },
    destroy() {
      scheduler.cancel();
      resize.disconnect();
      canvas.removeEventListener("click", onClick);
      canvas.removeEventListener("mousemove", onMove);
      canvas.remove();
    },
  };
}
