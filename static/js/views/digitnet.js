// The digit network, layer by layer: the 28×28 input the network saw, every conv and pool layer's
// feature maps as small images lit by their activations (views/featuremaps.js), every hidden dense
// neuron as a cell, the ten outputs; and lines (views/digitedges.js): into each dense layer the
// strongest contributions a_i · w_ij (orange excites, blue inhibits), into a selected conv map its
// input channels' contributions. Clicking a map or a neuron selects it: onSelect({layer, index}).
// From the keyboard: Tab to the canvas, arrows walk the maps and neurons (a ring shows where, a live
// region says what), Enter selects.
// Where everything goes: views/digitlayout.js.
// createDigitNet(element, {height, onSelect})
//   -> {update({net, activations, selected}), destroy()}
// net: {layers: [{type, shape, activation, ...}], the input first ({type: "input", shape: [H, W, C]}),
// weights: one array per layer (null for pool, flatten, or while unknown)}; activations: one array
// per layer, the input first, or null; selected: {layer (1-based), index (neuron or channel)} or null.
import { fitCanvas, frameScheduler } from "../frame.js";
import { NEG, POS } from "./colors.js";
import { centre, columnOf, hitTest, keyMove, layoutOf, tileAt, unitCentre } from "./digitlayout.js";
import { computeEdges } from "./digitedges.js";
import { OFF, litRGB, paintMaps, peak } from "./featuremaps.js";
import { paintGrey } from "./grey.js";

const BOUNDED = new Set(["sigmoid", "softmax", "tanh"]); // activations already in [-1, 1]
const COLORS = { background: "#18222a", text: "#b8c7d1", strong: "#ffffff", dim: "#7d8f9b", frame: "#3b4b58" };
const rgb = (c) => `rgb(${c.join(",")})`;

export function describeLayer(layer, l, L, compact = false) {
  const shape = layer.shape.join("×");
  if (compact) return l === 0 ? "input" : l === L ? "output" : layer.type === "dense" ? shape : layer.type;
  if (l === 0) return `input ${layer.shape.slice(0, 2).join("×")}`;
  if (l === L) return `output ${shape}`;
  return layer.type === "dense" ? `hidden ${shape}` : `${layer.type} ${shape}`;
}

export function createDigitNet(element, options = {}) {
  const { height = 400, onSelect = () => {} } = options;
  const canvas = document.createElement("canvas");
  canvas.className = "digitnet-canvas";
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-roledescription", "network view");
  canvas.setAttribute("aria-label", "the network's layers: arrow keys move between maps and neurons, Enter shows one");
  const said = document.createElement("p");
  said.className = "sr-only";
  said.setAttribute("aria-live", "polite");
  element.append(canvas, said);
  let focused = null, byKeys = false;   // the keyboard's item, and whether its ring shows
  let state = { net: null, activations: null, selected: null };
  let layout = null, edges = null, edgesStale = false, hover = null, ctx = null, sized = "";
  const tile = document.createElement("canvas"); // the input image, drawn scaled up
  let painted = null;            // the activations the input tile and the map canvases show
  let maps = [];                 // per layer: an offscreen canvas of its maps, or null

  const sizes = () => state.net.layers.map((layer) => layer.shape.reduce((a, b) => a * b, 1));

  function paint() {
    const { net, activations } = state;
    const [H, W] = net.layers[0].shape;
    if (tile.width !== W || tile.height !== H) { tile.width = W; tile.height = H; }
    paintGrey(tile, activations ? activations[0] : null);
    maps = net.layers.map((layer, l) => {
      if (l === 0 || layer.shape.length !== 3) return null;
      const offscreen = maps[l] ?? document.createElement("canvas");
      paintMaps(offscreen, activations ? activations[l] : null, layer.shape);
      return offscreen;
    });
    painted = activations;
  }

  // The brightness scale of layer l: 1 for activations bounded by 1, else the layer's largest |a|.
  function scaleOf(l) {
    if (BOUNDED.has(state.net.layers[l].activation)) return 1;
    const m = peak(state.activations[l]);
    return m > 0 ? 1 / m : 0;
  }

  function drawEdges() {
    if (!edges) return;
    edges.forEach((list, k) => {
      if (!list || !list.length) return;
      const l = k + 1, strongest = Math.abs(list[0].c), [to] = columnOf(layout, l);
      for (let e = list.length - 1; e >= 0; e--) {
        const { i, j, c, units } = list[e];
        const s = strongest > 0 ? Math.abs(c) / strongest : 0;
        const [x0, y0] = units ? unitCentre(layout, l - 1, i) : centre(layout, l - 1, i);
        const [x1, y1] = units ? unitCentre(layout, l, j) : centre(layout, l, j);
        ctx.strokeStyle = `rgba(${(c > 0 ? POS : NEG).join(",")},${(0.15 + 0.75 * s).toFixed(3)})`;
        ctx.lineWidth = 0.5 + 2 * s;
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.bezierCurveTo((x0 + x1) / 2, y0, (x0 + x1) / 2, y1, x1 - (to.kind === "output" ? 12 : 0), y1);
        ctx.stroke();
      }
    });
  }

  function drawColumn(c, l) {
    const a = state.activations ? state.activations[l] : null;
    if (c.kind === "input") {
      ctx.globalAlpha = 0.92;
      ctx.drawImage(tile, c.x, c.y, c.w, c.h);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = COLORS.frame;
      ctx.strokeRect(c.x - 0.5, c.y - 0.5, c.w + 1, c.h + 1);
    } else if (c.kind === "maps") {
      const [H, W, C] = c.shape;
      for (let ch = 0; ch < C; ch++) {
        const [x, y] = tileAt(c, ch);
        ctx.drawImage(maps[l], ch * W, 0, W, H, x, y, c.tw, c.th);
      }
    } else if (c.kind === "cells") {
      const k = a ? scaleOf(l) : 0, pad = Math.max(1, c.cell * 0.12), n = sizes()[l];
      for (let i = 0; i < n; i++) {
        ctx.fillStyle = rgb(a ? litRGB(k * a[i]) : OFF);
        const [cx, cy] = centre(layout, l, i);
        ctx.fillRect(cx - c.cell / 2 + pad, cy - c.cell / 2 + pad, c.cell - 2 * pad, c.cell - 2 * pad);
      }
    } else drawOutputs(c, l, a);
  }

  function drawOutputs(c, l, p) {
    const best = p ? p.indexOf(Math.max(...p)) : -1, k = p ? scaleOf(l) : 0;
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    for (let n = 0; n < c.rows; n++) {
      const [cx, cy] = centre(layout, l, n), r = Math.min(c.cell * 0.38, 12);
      ctx.fillStyle = rgb(p ? litRGB(k * p[n]) : OFF);
      ctx.beginPath(); ctx.arc(cx, cy, r, 0, 2 * Math.PI); ctx.fill();
      ctx.font = `${n === best ? "700 " : ""}${Math.round(r * 1.5)}px system-ui, sans-serif`;
      ctx.fillStyle = n === best ? COLORS.strong : COLORS.text;
      ctx.fillText(String(n), cx + r + 8, cy + 1);
      if (p) {
        ctx.font = "10px system-ui, sans-serif";
        ctx.fillStyle = COLORS.text;
        ctx.fillText(`${Math.round(100 * p[n])}%`, cx + r + 26, cy + 1);
      }
    }
  }

  function drawMark(target, color) {
    const L = state.net.layers.length - 1;
    if (!target || target.layer < 1 || target.layer > L || target.index >= sizes()[target.layer]) return;
    const c = layout.columns[target.layer];
    if (c.kind === "alias") return;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    if (c.kind === "maps") {
      const [x, y] = tileAt(c, target.index);
      ctx.strokeRect(x - 1.5, y - 1.5, c.tw + 3, c.th + 3);
      return;
    }
    const [cx, cy] = centre(layout, target.layer, target.index);
    if (c.kind === "output") { ctx.beginPath(); ctx.arc(cx, cy, Math.min(c.cell * 0.38, 12) + 3, 0, 2 * Math.PI); ctx.stroke(); }
    else ctx.strokeRect(cx - c.cell / 2, cy - c.cell / 2, c.cell, c.cell);
  }

  // Captions under the columns; where two would touch (a narrow view), every other one goes on top.
  function drawCaptions() {
    const layers = state.net.layers, L = layers.length - 1, width = layout.width;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    let previousRight = -Infinity, lastOnTop = true;
    layout.columns.forEach((c, l) => {
      if (c.kind === "alias") return;
      const compact = width < 640, layer = layers[l], name = describeLayer(layer, l, L, compact);
      const below = l === 0 || compact ? "" : layer.type === "pool" ? "max 2×2" : layer.type === "conv"
        ? `${layer.size}×${layer.size} ${layer.activation ?? ""}` : layer.activation ?? "";
      const half = Math.max(ctx.measureText(name).width, ctx.measureText(below).width) / 2 + 3;
      const x = Math.min(Math.max(c.x + c.w / 2, half), width - half);
      const onTop = x - half < previousRight && !lastOnTop;
      const y = onTop ? 12 : height - 16;
      if (!onTop) previousRight = x + half;
      lastOnTop = onTop;
      ctx.fillStyle = COLORS.text;
      ctx.fillText(name, x, y);
      ctx.fillStyle = COLORS.dim;
      if (!onTop) ctx.fillText(below, x, y + 12);
    });
  }

  function draw() {
    const width = Math.max(240, element.clientWidth);
    if (!ctx || sized !== `${width}×${window.devicePixelRatio}`) {   // reallocate only when the size changed
      ctx = fitCanvas(canvas, width, height);
      sized = `${width}×${window.devicePixelRatio}`;
      layout = null;
    }
    ctx.fillStyle = COLORS.background;
    ctx.fillRect(0, 0, width, height);
    if (!state.net) return;
    layout ??= layoutOf(state.net.layers, width, height);
    if (edgesStale) { edges = computeEdges(state.net, state.activations, state.selected); edgesStale = false; }
    if (painted !== state.activations || maps.length !== state.net.layers.length) paint();
    ctx.imageSmoothingEnabled = false;
    drawEdges();
    ctx.lineWidth = 1;
    layout.columns.forEach((c, l) => { if (c.kind !== "alias") drawColumn(c, l); });
    drawMark(hover, "#ffffff88");
    drawMark(state.selected, "#ffffff");
    if (byKeys && document.activeElement === canvas) drawMark(focused, "#ffd166");
    drawCaptions();
  }
  const scheduler = frameScheduler(draw);

  function describe({ layer, index }) {
    const L = state.net.layers.length - 1, kind = state.net.layers[layer].type;
    const name = layer === L ? `output ${index}` : kind === "dense" ? `layer ${layer}, neuron ${index}`
      : `layer ${layer} (${kind}), map ${index}`;
    const a = kind === "dense" ? state.activations?.[layer]?.[index] : undefined;
    return a === undefined ? name : `${name}: a = ${a.toFixed(3)}`;
  }
  function hit(event) {
    if (!layout) return null;
    const rect = canvas.getBoundingClientRect();
    return hitTest(layout, event.clientX - rect.left, event.clientY - rect.top, sizes());
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
  function onKey(event) {
    if (!layout || !state.net) return;
    if (event.key === "Enter" && focused) {
      onSelect(focused);
      event.preventDefault();
      return;
    }
    const next = keyMove(layout, sizes(), focused, event.key);
    if (!next) return;
    event.preventDefault();
    focused = next;
    byKeys = true;
    said.textContent = describe(focused);
    scheduler.request();
  }
  const onPointer = () => { byKeys = false; };
  const onBlur = () => scheduler.request();
  canvas.addEventListener("click", onClick);
  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("keydown", onKey);
  canvas.addEventListener("pointerdown", onPointer);
  canvas.addEventListener("blur", onBlur);
  const resize = new ResizeObserver(() => scheduler.request());
  resize.observe(element);

  return {
    update(next) {
      const structural = next.net && next.net.layers !== state.net?.layers;
      state = { ...state, ...next };
      if (structural) { layout = null; maps = []; painted = null; focused = null; }
      if (["activations", "net", "selected"].some((k) => k in next)) edgesStale = true;
      scheduler.request();
    },
    destroy() {
      scheduler.cancel();
      resize.disconnect();
      canvas.removeEventListener("click", onClick);
      canvas.removeEventListener("mousemove", onMove);
      canvas.removeEventListener("keydown", onKey);
      canvas.removeEventListener("pointerdown", onPointer);
      canvas.removeEventListener("blur", onBlur);
      canvas.remove();
      said.remove();
    },
  };
}

