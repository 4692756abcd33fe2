// The HTML parts of the network view, laid over its edge canvas at the places netgeometry.js
// gives: a heading per layer (title, +/− for a hidden layer, link to its maths), a box per neuron
// holding its map canvas, and the bias bar under it (drawn on the edge canvas; the box takes clicks).
//   heading(element, {l, L, n, g, widths: {min, max}, href}) -> the heading element
//   neuronBox(element, {l, j, g, inputName}) -> {element, map, ctx, image, value}
//   paintNode(nd, maps, j, lut)           neuron j's map of a quantised (n, r, r) array into its box
//   drawBiases(ctx, b, l, g, nodes)       the bias bars of layer l; each box keeps its bias
import { cssColor, paintMap } from "./colors.js";

export function heading(element, { l, L, n, g, widths, href }) {
  const head = document.createElement("div");
  head.className = "net-head";
  head.style.left = `${g.xs[l] + g.size / 2}px`;
  const title = l === 0 ? "Features" : l === L ? "Output" : `${n} neuron${n === 1 ? "" : "s"}`;
  if (l > 0 && l < L) head.append(resizeButtons(n, widths));
  head.append(Object.assign(document.createElement("span"), { className: "net-title", textContent: title }));
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

export function neuronBox(element, { l, j, g, inputName }) {
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
  } else if (inputName !== undefined) {
    el.append(Object.assign(document.createElement("span"), { className: "net-input-name", textContent: inputName }));
  }
  element.append(el);
  return { element: el, map, ctx: map.getContext("2d"), image: null, value: 0 };
}

export function paintNode(nd, maps, j, lut) {
  const r = maps.shape[1];
  if (nd.map.width !== r) { nd.map.width = nd.map.height = r; nd.image = null; }
  nd.image ??= nd.ctx.createImageData(r, r);
  paintMap(nd.image, maps, j, lut);
  nd.ctx.putImageData(nd.image, 0, 0);
}

// A bar under each neuron, filled from the middle: right and orange for b > 0, left and blue for b < 0.
export function drawBiases(ctx, b, l, g, nodes) {
  if (!b) return;
  const height = g.biasHeight;
  for (let j = 0; j < b.length && j < nodes.length; j++) {
    const nd = nodes[j], v = b[j];
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
