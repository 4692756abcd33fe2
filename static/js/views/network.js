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
import { drawEdges, edgeAt, layout } from "./netgeometry.js";
import { createValueEditor } from "./valueeditor.js";

const ZOOM = 168;         // enlarged map size in CSS pixels
const MIN_MAP_SIZE = 10;  // smaller nodes show their map only when hovered

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
  element.append(canvas, tip, zoom);
  const editor = createValueEditor(element, {
    place: (box, x, y) => place(box, x, y),
    onSet: (e, value) => (e.kind === "bias" ? onSetBias(e.layer, e.neuron, value) : onSetWeight(e.layer, e.from, e.to, value)),
  });

  const view = {
    structure: null, snapshot: null, geometry: null, nodes: [], heads: [], stale: false,
    hovered: null,   // the node element under the mouse
    pointed: null,   // the edge {layer, from, to} or bias {layer, neuron} whose value the tip shows
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
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `The network ${structure.sizes.join("–")}: each neuron shows its output over the plane; `
      + "the lines are the weights, orange positive, blue negative, thicker for larger ones");
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

  function edgeUnder(mx, my) {
    const { geometry: g, snapshot, structure } = view;
    return g && snapshot ? edgeAt(g, structure.sizes, snapshot.arrays, mx, my) : null;
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
    const edge = bias ? null : event.target === canvas ? edgeUnder(mx, my) : null;
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

  function openEditor(target, label, value, x, y) {
    view.pointed = null;
    tip.hidden = true;
    editor.update({ target, label, value, x, y, range: view.structure.weight });
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
    const edge = event.target === canvas ? edgeUnder(mx, my) : null;
    if (edge) {
      openEditor({ kind: "weight", ...edge }, `w ${edge.from + 1}→${edge.to + 1}`, edge.value, mx, my);
    } else {
      editor.close();
    }
  }

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
      editor.destroy();
      element.replaceChildren();
    },
  };
}
