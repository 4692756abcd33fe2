// The network graph: one column per layer, each neuron a small heatmap of its output over the
// input plane (enlarged on hover), edges coloured by the weight's sign and thicker for larger |w|,
// a bias bar under each neuron. Hovering an edge shows its weight; clicking an edge or a bias bar
// opens a small editor.
//
// createNetwork(element, {onSetWeight(layer, from, to, value), onSetBias(layer, neuron, value),
//                         onResizeLayer(layer, delta), layerLink(layer) -> url | null})
//   -> {update({structure, snapshot}), destroy()}
// structure = {sizes: [n0, ..., nL], activations: [act1, ..., actL], inputNames: [...] (shown as
//              they are), widths: {min, max} (a hidden layer's +/− buttons stop there), weight: {min, max}}
// snapshot  = a decoded snapshot frame (arrays W1.., b1.., maps0..).
import { fitCanvas, frameScheduler } from "../frame.js";
import { byteLut, cssColor, inputNormaliser, normaliser, paintMap } from "./colors.js";

const HEAD = 54;          // room for the layer headings
const LEFT = 64;          // room for the input feature names
const RIGHT = 24;
const ZOOM = 168;         // enlarged map size in CSS pixels
const MIN_MAP_SIZE = 10;  // smaller nodes show their map only when hovered
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

function edgeWidth(w, scale) {
  return Math.max(0.4, Math.min(Math.abs(w), 4) * 1.8 * scale);
}

function layout(structure, width, height) {
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

export function createNetwork(element, options) {
  const { onSetWeight, onSetBias, onResizeLayer, layerLink } = options;
  element.classList.add("net");
  const canvas = document.createElement("canvas");
  canvas.className = "net-edges";
  const tip = Object.assign(document.createElement("div"), { className: "net-tip", hidden: true });
  const zoom = Object.assign(document.createElement("div"), { className: "net-zoom", hidden: true });
  const zoomCanvas = document.createElement("canvas");
  const zoomCaption = document.createElement("div");
  zoom.append(zoomCanvas, zoomCaption);
  const editor = document.createElement("form");
  editor.className = "net-editor";
  editor.hidden = true;
  editor.innerHTML = `<label><span></span> <input type="number" step="any" required></label>
    <button type="submit">Set</button><button type="button" class="cancel">×</button>`;
  element.append(canvas, tip, zoom, editor);

  const view = {
    structure: null, snapshot: null, geometry: null, nodes: [], heads: [], stale: false,
    hovered: null,   // the node element under the mouse
    pointed: null,   // the edge {layer, from, to} or bias {layer, neuron} whose value the tip shows
    editing: null,   // {kind: "weight", layer, from, to} or {kind: "bias", layer, neuron}
    width: 0, height: 0,
  };

  function build() {
    for (const n of view.nodes.flat()) n.element.remove();
    for (const h of view.heads) h.remove();
    view.nodes = []; view.heads = [];
    const { structure } = view;
    view.stale = false;
    if (!structure) return;
    view.width = element.clientWidth;
    view.height = element.clientHeight;
    fitCanvas(canvas, view.width, view.height);
    const g = view.geometry = layout(structure, view.width, view.height);
    const L = structure.sizes.length - 1;
    structure.sizes.forEach((n, l) => {
      view.heads.push(heading(l, L, n, g));
      view.nodes.push(Array.from({ length: n }, (_, j) => node(l, j, g)));
    });
    element.dataset.sizes = structure.sizes.join(",");
    delete element.dataset.step;   // until a snapshot of this network is drawn
  }

  function heading(l, L, n, g) {
    const head = document.createElement("div");
    head.className = "net-head";
    head.style.left = `${g.xs[l] + g.size / 2}px`;
    const title = l === 0 ? "Features" : l === L ? "Output" : `${n} neuron${n === 1 ? "" : "s"}`;
    if (l > 0 && l < L) head.append(resizeButtons(n, view.structure.widths ?? { min: 1, max: Infinity }));
    head.append(Object.assign(document.createElement("span"), { className: "net-title", textContent: title }));
    const href = l > 0 ? layerLink(l) : null;
    if (href) {
      head.append(Object.assign(document.createElement("a"), {
        href, className: "net-math", textContent: "math", title: `The maths of layer ${l}, step by step`,
      }));
    }
    head.dataset.layer = l;
    element.append(head);
    return head;
  }

  function resizeButtons(n, { min, max }) {
    const span = Object.assign(document.createElement("span"), { className: "net-resize" });
    const add = Object.assign(document.createElement("button"), { type: "button", className: "round", textContent: "+" });
    const remove = Object.assign(document.createElement("button"), { type: "button", className: "round", textContent: "−" });
    add.dataset.delta = "1";
    remove.dataset.delta = "-1";
    add.disabled = n >= max;
    add.title = add.disabled ? `This server allows at most ${max} neurons in a layer` : "Add a neuron";
    remove.disabled = n <= min;
    remove.title = remove.disabled ? `A layer needs at least ${min} neuron${min === 1 ? "" : "s"}: remove the whole layer with − above`
      : "Remove a neuron";
    span.append(add, remove);
    return span;
  }

  function node(l, j, g) {
    const el = document.createElement("div");
    el.className = "net-node";
    el.dataset.layer = l;
    el.dataset.neuron = j;
    Object.assign(el.style, { left: `${g.xs[l]}px`, top: `${g.ys[l][j]}px`, width: `${g.size}px`, height: `${g.size}px` });
    const map = document.createElement("canvas");
    map.width = map.height = 1;
    el.append(map);
    if (l > 0) {   // the bar itself is drawn on the edge canvas; this is where it takes clicks
      const bias = Object.assign(document.createElement("div"), { className: "net-bias" });
      bias.style.height = `${g.biasHeight}px`;
      el.append(bias);
    } else if (view.structure.inputNames) {
      const name = view.structure.inputNames[j];
      el.append(Object.assign(document.createElement("span"), {
        className: "net-input-name", textContent: name,
      }));
    }
    element.append(el);
    return { element: el, map, ctx: map.getContext("2d"), image: null, value: 0 };
  }

  function draw() {
    if (view.stale) build();
    const { snapshot, structure, geometry: g } = view;
    if (!structure || !g) return;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, view.width, view.height);
    if (!snapshot) return;
    const arrays = snapshot.arrays;
    const sizes = structure.sizes;
    for (let l = 1; l < sizes.length; l++) drawEdges(ctx, arrays[`W${l}`], l, g);
    for (let l = 0; l < sizes.length; l++) {
      drawMaps(arrays[`maps${l}`], l);
      if (l > 0) drawBiases(ctx, arrays[`b${l}`], l, g);
    }
    if (view.hovered) drawZoom();
    if (view.pointed) showTip();
    element.dataset.step = snapshot.step;
  }

  // Edges are bucketed by sign and |w| (steps of 1/2 up to 4) and each bucket is stroked once:
  // thousands of edges cost a few dozen strokes.
  function drawEdges(ctx, W, l, g) {
    if (!W) return;
    const [nIn, nOut] = W.shape;
    const x0 = g.xs[l - 1] + g.size, x1 = g.xs[l], xm = (x0 + x1) / 2, half = g.size / 2;
    const straight = nIn * nOut > STRAIGHT_ABOVE;
    const paths = new Array(2 * LEVELS);
    for (let j = 0; j < nIn; j++) {
      const y0 = g.ys[l - 1][j] + half;
      for (let k = 0; k < nOut; k++) {
        const w = W[j * nOut + k];
        const y1 = g.ys[l][k] + half;
        const bucket = (w < 0 ? 0 : LEVELS) + Math.min(LEVELS - 1, Math.floor(Math.abs(w) * 2));
        const path = paths[bucket] ??= new Path2D();
        path.moveTo(x0, y0);
        if (straight) path.lineTo(x1, y1); else path.bezierCurveTo(xm, y0, xm, y1, x1, y1);
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

  // Neuron maps; when nodes are too small to show a picture, only the hovered one is painted.
  function drawMaps(maps, l) {
    if (!maps) return;
    const small = view.geometry.size < MIN_MAP_SIZE;
    for (let j = 0; j < maps.shape[0] && j < view.nodes[l].length; j++) {
      if (!small || view.nodes[l][j].element === view.hovered) paintNode(maps, l, j);
    }
  }

  function paintNode(maps, l, j) {
    const nd = view.nodes[l][j], r = maps.shape[1];
    const lut = l > 0 ? layerLut(maps, l) : byteLut(maps, inputNormaliser(maps, j));
    if (nd.map.width !== r) { nd.map.width = nd.map.height = r; nd.image = null; }
    nd.image ??= nd.ctx.createImageData(r, r);
    paintMap(nd.image, maps, j, lut);
    nd.ctx.putImageData(nd.image, 0, 0);
  }

  // One colour table per maps array (the same for every neuron of a layer).
  function layerLut(maps, l) {
    if (maps.lut === undefined) maps.lut = byteLut(maps, normaliser(view.structure.activations[l - 1]));
    return maps.lut;
  }

  // A bar under each neuron, filled from the middle: right and orange for b > 0, left and blue for b < 0.
  function drawBiases(ctx, b, l, g) {
    if (!b) return;
    const height = g.biasHeight;
    for (let j = 0; j < b.length && j < view.nodes[l].length; j++) {
      const nd = view.nodes[l][j], v = b[j];
      const x = g.xs[l], y = g.ys[l][j] + g.size + 2, w = g.size;
      const part = (Math.min(1, Math.abs(v) / 2) * w) / 2;   // |b| = 2 fills half the bar
      ctx.fillStyle = "#e3e3e3";
      ctx.fillRect(x, y, w, height);
      ctx.fillStyle = cssColor(Math.sign(v));
      ctx.fillRect(v < 0 ? x + w / 2 - part : x + w / 2, y, part, height);
      ctx.fillStyle = "#888";
      ctx.fillRect(x + w / 2 - 0.5, y - 1, 1, height + 2);
      nd.value = v;
      nd.element.dataset.bias = v.toFixed(4);
    }
  }

  function drawZoom() {
    const el = view.hovered;
    const l = +el.dataset.layer, j = +el.dataset.neuron;
    const nd = view.nodes[l]?.[j];
    if (!nd) return;
    const ctx = fitCanvas(zoomCanvas, ZOOM, ZOOM);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(nd.map, 0, 0, ZOOM, ZOOM);
    const L = view.structure.sizes.length - 1;
    const what = l === 0 ? `input ${view.structure.inputNames?.[j] ?? j}`
      : `${l === L ? "output" : `layer ${l}`}, neuron ${j + 1}`;
    zoomCaption.textContent = l > 0 ? `${what} · bias ${nd.value.toFixed(3)}` : what;
  }

  // The edge under the mouse, or null: {layer, from, to, value}.
  function edgeAt(mx, my) {
    const { geometry: g, snapshot, structure } = view;
    if (!g || !snapshot) return null;
    for (let l = 1; l < structure.sizes.length; l++) {
      const x0 = g.xs[l - 1] + g.size, x1 = g.xs[l];
      if (mx < x0 || mx > x1) continue;
      const W = snapshot.arrays[`W${l}`];
      if (!W) return null;
      const [nIn, nOut] = W.shape;
      const straight = nIn * nOut > STRAIGHT_ABOVE;
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

  function place(box, x, y) {
    box.style.left = `${Math.min(x + 14, view.width - box.offsetWidth - 4)}px`;
    box.style.top = `${Math.max(0, Math.min(y + 14, view.height - box.offsetHeight - 4))}px`;
  }

  function position(event) {
    const rect = element.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  function refreshLink(event) {
    const link = event.target.closest?.(".net-math");
    if (link) link.href = layerLink(+link.parentElement.dataset.layer) ?? link.href;
  }

  function onMove(event) {
    const [mx, my] = position(event);
    refreshLink(event);
    const nodeEl = event.target.closest?.(".net-node");
    if (nodeEl && !event.target.closest(".net-bias")) {
      tip.hidden = true;
      if (view.hovered !== nodeEl) {
        view.hovered = nodeEl;
        zoom.hidden = false;
        const maps = view.snapshot?.arrays[`maps${nodeEl.dataset.layer}`];
        if (maps) paintNode(maps, +nodeEl.dataset.layer, +nodeEl.dataset.neuron);
        drawZoom();
      }
      place(zoom, mx, my);
      return;
    }
    view.hovered = null;
    zoom.hidden = true;
    const bias = event.target.closest?.(".net-bias");
    const edge = bias ? null : event.target === canvas ? edgeAt(mx, my) : null;
    view.pointed = bias ? { layer: +bias.parentElement.dataset.layer, neuron: +bias.parentElement.dataset.neuron } : edge;
    canvas.style.cursor = edge ? "pointer" : "";
    showTip();
    if (!tip.hidden) place(tip, mx, my);
  }

  // The pointed-at weight or bias, with its value from the newest snapshot.
  function showTip() {
    const p = view.pointed, arrays = view.snapshot?.arrays;
    tip.hidden = !p || !arrays;
    if (tip.hidden) return;
    if (p.neuron !== undefined) {
      const b = arrays[`b${p.layer}`]?.[p.neuron] ?? NaN;
      tip.textContent = `bias of layer ${p.layer}, neuron ${p.neuron + 1}: ${b.toFixed(4)}`;
    } else {
      const W = arrays[`W${p.layer}`];
      const w = W ? W[p.from * W.shape[1] + p.to] : NaN;
      tip.textContent = `weight ${p.from + 1} → ${p.to + 1} (layer ${p.layer}): ${w.toFixed(4)}`;
    }
  }

  function onLeave() {
    view.hovered = view.pointed = null;
    zoom.hidden = tip.hidden = true;
  }

  function openEditor(target, label, value, mx, my) {
    view.editing = target;
    view.pointed = null;
    tip.hidden = true;
    editor.hidden = false;
    editor.querySelector("span").textContent = label;
    const input = editor.querySelector("input");
    const range = view.structure.weight;   // the form refuses values outside it, saying why
    if (range) Object.assign(input, { min: range.min, max: range.max, title: `from ${range.min} to ${range.max}` });
    input.value = (+value).toFixed(4);
    place(editor, mx, my);
    input.focus();
    input.select();
  }

  function onClick(event) {
    if (editor.contains(event.target)) return;
    refreshLink(event);
    const [mx, my] = position(event);
    const resize = event.target.closest?.("[data-delta]");
    if (resize) {
      onResizeLayer(+resize.closest(".net-head").dataset.layer, +resize.dataset.delta);
      return;
    }
    const bias = event.target.closest?.(".net-bias");
    if (bias) {
      const nd = bias.parentElement;
      const layer = +nd.dataset.layer, neuron = +nd.dataset.neuron;
      openEditor({ kind: "bias", layer, neuron }, `bias ${layer}:${neuron + 1}`, nd.dataset.bias ?? 0, mx, my);
      return;
    }
    const edge = event.target === canvas ? edgeAt(mx, my) : null;
    if (edge) {
      openEditor({ kind: "weight", ...edge }, `w ${edge.from + 1}→${edge.to + 1}`, edge.value, mx, my);
    } else {
      editor.hidden = true;
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    const value = Number(editor.querySelector("input").value);
    const e = view.editing;
    editor.hidden = true;
    if (!e || !Number.isFinite(value)) return;
    if (e.kind === "bias") onSetBias(e.layer, e.neuron, value);
    else onSetWeight(e.layer, e.from, e.to, value);
  }

  function onEditorKey(event) {
    if (event.key === "Escape") editor.hidden = true;
  }

  const closeEditor = () => { editor.hidden = true; };
  const scheduler = frameScheduler(draw);
  const resizeObserver = new ResizeObserver(() => {
    if (element.clientWidth !== view.width || element.clientHeight !== view.height) {
      view.stale = true;
      scheduler.request();
    }
  });
  element.addEventListener("mousemove", onMove);
  element.addEventListener("mouseleave", onLeave);
  element.addEventListener("click", onClick);
  editor.addEventListener("submit", onSubmit);
  editor.addEventListener("keydown", onEditorKey);
  editor.querySelector(".cancel").addEventListener("click", closeEditor);
  resizeObserver.observe(element);

  return {
    // structure: rebuild the columns when it changed; snapshot: redraw on the next frame.
    update({ structure, snapshot }) {
      if (structure && JSON.stringify(structure) !== JSON.stringify(view.structure)) {
        view.structure = structure;
        view.snapshot = null;
        view.stale = true;   // rebuilt in the next animation frame
        scheduler.request();
      }
      if (snapshot) { view.snapshot = snapshot; scheduler.request(); }
    },
    destroy() {
      scheduler.cancel();
      resizeObserver.disconnect();
      element.removeEventListener("mousemove", onMove);
      element.removeEventListener("mouseleave", onLeave);
      element.removeEventListener("click", onClick);
      element.replaceChildren();
    },
  };
}
