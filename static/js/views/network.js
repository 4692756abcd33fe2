// The network graph: one column per layer, each neuron a small heatmap of its output over the
// input plane (enlarged on hover), edges coloured by the weight's sign and thicker for larger |w|,
// a bias bar under each neuron. Hovering an edge shows its weight; clicking an edge or a bias bar
// opens a small editor. From the keyboard (netkeys.js) the graph takes the focus with Tab: the
// arrows and E move a ring over the neurons and weights, a live region says what is focused, and
// Enter opens the same editor, which gives the focus back when it closes.
//
// createNetwork(element, {onSetWeight(layer, from, to, value), onSetBias(layer, neuron, value),
//                         onResizeLayer(layer, delta), layerLink(layer) -> url | null})
//   -> {update({structure, snapshot}), destroy()}
// structure = {sizes: [n0, ..., nL], activations: [act1, ..., actL], inputNames: [...] (shown as
//              they are), widths: {min, max} (a hidden layer's +/− buttons stop there), weight: {min, max}}
// snapshot  = a decoded snapshot frame (arrays W1.., b1.., maps0..).
import { fitCanvas, frameScheduler } from "../frame.js";
import { byteLut, inputNormaliser, normaliser } from "./colors.js";
import { drawEdges, edgeAt, layout } from "./netgeometry.js";
import { KEYS_HELP, anchor, describe, drawFocus, itemName, weightOf } from "./netfocus.js";
import { createNetKeys } from "./netkeys.js";
import { drawBiases, heading, neuronBox, paintNode } from "./netnodes.js";
import { createValueEditor } from "./valueeditor.js";

const ZOOM = 168;         // enlarged map size in CSS pixels
const MIN_MAP_SIZE = 10;  // smaller nodes show their map only when hovered or focused

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
    onClose: (e, value) => keys.editorClosed(value),   // opened with Enter: the focus goes back
  });
  const keys = createNetKeys(canvas, {
    state: () => (view.structure && view.geometry
      ? { structure: view.structure, geometry: view.geometry, arrays: view.snapshot?.arrays ?? null } : null),
    onShow: () => { view.hovered = view.pointed = null; zoom.hidden = tip.hidden = true; scheduler.request(); },
    onEdit: editFocused,
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
    canvas.setAttribute("aria-label", `The network ${structure.sizes.join("–")}: each neuron shows its output over the plane; `
      + `the lines are the weights, orange positive, blue negative, thicker for larger ones. Keys: ${KEYS_HELP}`);
    const widths = structure.widths ?? { min: 1, max: Infinity };
    structure.sizes.forEach((n, l) => {
      view.heads.push(heading(element, { l, L, n, g, widths, href: l > 0 ? layerLink(l) : null }));
      view.nodes.push(Array.from({ length: n }, (_, j) => neuronBox(element, { l, j, g, inputName: structure.inputNames?.[j] })));
    });
    element.dataset.sizes = structure.sizes.join(",");
    delete element.dataset.step;   // until a snapshot of this network is drawn
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
      if (l > 0) drawBiases(ctx, arrays[`b${l}`], l, g, view.nodes[l]);
    }
    showFocus(ctx);
    if (view.hovered) drawZoom();
    if (view.pointed) showTip();
    element.dataset.step = snapshot.step;
  }

  // Neuron maps; when nodes are too small to show a picture, only the shown one is painted.
  function drawMaps(maps, l) {
    if (!maps) return;
    const small = view.geometry.size < MIN_MAP_SIZE;
    const shown = zoomed();
    for (let j = 0; j < maps.shape[0] && j < view.nodes[l].length; j++) {
      if (!small || (shown?.layer === l && shown.neuron === j)) paintOne(maps, l, j);
    }
  }

  // The neuron whose enlarged map shows: the hovered one, else the keyboard's.
  function zoomed() {
    if (view.hovered) return { layer: +view.hovered.dataset.layer, neuron: +view.hovered.dataset.neuron };
    const item = keys.shown();
    return item?.from === undefined ? item : null;
  }

  function paintOne(maps, l, j) {
    const lut = l > 0 ? layerLut(maps, l) : byteLut(maps, inputNormaliser(maps, j));
    paintNode(view.nodes[l][j], maps, j, lut);
  }

  // One colour table per maps array (the same for every neuron of a layer).
  function layerLut(maps, l) {
    if (maps.lut === undefined) maps.lut = byteLut(maps, normaliser(view.structure.activations[l - 1]));
    return maps.lut;
  }

  function drawZoom() {
    const { layer: l, neuron: j } = zoomed();
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

  // A box beside (x, y), or centred under it, inside the graph.
  function place(box, x, y, under = false) {
    const left = under ? x - box.offsetWidth / 2 : x + 14;
    box.style.left = `${Math.max(0, Math.min(left, view.width - box.offsetWidth - 4))}px`;
    box.style.top = `${Math.max(0, Math.min(under ? y : y + 14, view.height - box.offsetHeight - 4))}px`;
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
        if (maps) paintOne(maps, +nodeEl.dataset.layer, +nodeEl.dataset.neuron);
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
    scheduler.request();   // the keyboard's item, if any, shows again
  }

  // The keyboard's item: its ring, and its enlarged map (a neuron) or its words (a weight) beside it.
  function showFocus(ctx) {
    const item = keys.shown(), arrays = view.snapshot.arrays;
    if (!item) return;
    drawFocus(ctx, item, view.geometry, arrays);
    if (view.hovered || view.pointed || editor.isOpen()) return;   // the mouse's, or the editor, are in front
    const [x, y] = anchor(item, view.geometry);
    zoom.hidden = item.from !== undefined;
    tip.hidden = !zoom.hidden;
    if (!zoom.hidden) { drawZoom(); place(zoom, x, y); return; }
    tip.textContent = describe(item, view.structure, arrays);
    place(tip, x, y, true);
  }

  function editFocused(item) {
    const arrays = view.snapshot.arrays, l = item.layer;
    const [x, y] = anchor(item, view.geometry);
    const target = item.from === undefined ? { kind: "bias", layer: l, neuron: item.neuron } : { kind: "weight", ...item };
    const value = item.from === undefined ? arrays[`b${l}`]?.[item.neuron] ?? 0 : weightOf(item, arrays);
    openEditor(target, value, x, y);
  }

  function openEditor(target, value, x, y) {
    view.pointed = null;
    tip.hidden = zoom.hidden = true;
    const label = target.kind === "bias" ? `bias ${target.layer}:${target.neuron + 1}` : `w ${target.from + 1}→${target.to + 1}`;
    editor.update({ target, label, name: itemName(target, view.structure), value, x, y, range: view.structure.weight });
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
      openEditor({ kind: "bias", layer, neuron }, nd.dataset.bias ?? 0, mx, my);
      return;
    }
    const edge = event.target === canvas ? edgeUnder(mx, my) : null;
    if (edge) {
      openEditor({ kind: "weight", ...edge }, edge.value, mx, my);
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
      keys.destroy();
      editor.destroy();
      element.replaceChildren();
    },
  };
}
