// What the map or neuron clicked in the network view looks for, in two pictures and a sentence:
//   a dense neuron   its incoming weights traced back to the pixels (a dense network) or to the
//                    maps a flatten turned into rows (a conv network), and those weights × what the
//                    drawing put there;
//   a conv map       its k×k kernels, one per input channel, and where on the drawing it fired
//                    (the map laid over the drawing, each value at the centre of the pixels it saw);
//   a pool map       the conv map it pools, and where on the drawing the pooled map fired.
// createInspector(root) -> {update({net, reading, selected}), destroy()}  (net, selected: views/digitnet.js)
import { paintDiverging } from "../views/colors.js";
import { pullBack } from "../views/digitedges.js";
import { LIT, paintMaps, peak } from "../views/featuremaps.js";

const SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹";
const TILES_PER_ROW = 8;

// Size a canvas to w × h pixels, shown at a whole multiple that fits 224 × 112 CSS pixels.
function sized(canvas, w, h) {
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const s = Math.max(1, Math.floor(Math.min(224 / w, 112 / h)));
  canvas.style.width = `${w * s}px`;
  canvas.style.height = `${h * s}px`;
  return canvas.getContext("2d");
}

// `count` tiles of h × w, tile t's value at (y, x) = get(t, y, x), in rows of TILES_PER_ROW with a
// 1-pixel gap, coloured on one diverging scale (orange +, blue −).
function paintTiles(canvas, count, h, w, get) {
  const cols = Math.min(count, TILES_PER_ROW), rows = Math.ceil(count / cols);
  const ctx = sized(canvas, cols * (w + 1) - 1, rows * (h + 1) - 1);
  const image = ctx.createImageData(canvas.width, canvas.height);
  const values = new Float32Array(h * w);
  let limit = 0;
  for (let t = 0; t < count; t++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) limit = Math.max(limit, Math.abs(get(t, y, x)));
  for (let t = 0; t < count; t++) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values[y * w + x] = get(t, y, x);
    paintDiverging(image, values, w, h, (t % cols) * (w + 1), Math.floor(t / cols) * (h + 1), limit);
  }
  ctx.putImageData(image, 0, 0);
}

// Where the cells of layer l's maps sit on the input: cell p's centre is at offset + stride · p.
function field(layers, l) {
  let offset = 0, stride = 1;
  for (let i = 1; i <= l; i++) {
    const layer = layers[i];
    if (layer.type === "conv" && layer.padding === "valid") offset += stride * (layer.size - 1) / 2;
    if (layer.type === "pool") { offset += stride * 0.5; stride *= 2; }
  }
  return { offset, stride };
}

// The drawing in grey with channel `c` of layer l's maps laid over it in yellow where it fired.
function paintResponse(canvas, layers, l, values, c, input) {
  const [H, W] = layers[0].shape, [h, w, C] = layers[l].shape, { offset, stride } = field(layers, l);
  const ctx = sized(canvas, W, H);
  const image = ctx.createImageData(W, H), px = image.data;
  const m = peak(values) || 1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const cy = Math.round((y - offset) / stride), cx = Math.round((x - offset) / stride);
      const inside = cy >= 0 && cy < h && cx >= 0 && cx < w;
      const t = inside ? Math.max(0, values[(cy * w + cx) * C + c] / m) : 0;
      const grey = 70 * input[y * W + x];
      const k = (y * W + x) * 4;
      for (let j = 0; j < 3; j++) px[k + j] = Math.round(grey + (LIT[j] - grey) * Math.min(t, 1));
      px[k + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

export function createInspector(root) {
  const $ = (id) => root.querySelector(`#${id}`);
  const left = $("neuron-image"), right = $("neuron-input");

  function say(title, text, captions = ["its weights", "× the drawing"]) {
    $("neuron-title").textContent = title;
    $("neuron-text").textContent = text;
    [$("neuron-image-caption").textContent, $("neuron-input-caption").textContent] = captions;
    left.setAttribute("aria-label", `${title}: ${captions[0]}`);
    right.setAttribute("aria-label", `${title}: ${captions[1]}`);
  }

  function clear() {
    for (const canvas of [left, right]) {
      sized(canvas, 28, 28).clearRect(0, 0, 28, 28);
    }
  }

  function dense(net, reading, { layer, index }) {
    const L = net.layers.length - 1;
    const name = layer === L ? `Output ${index}` : `Layer ${layer}, neuron ${index}`;
    const a = reading?.activations[layer]?.[index];
    const title = a === undefined ? name : `${name} · activation ${a.toFixed(3)}`;
    if (!net.weights || net.weights.slice(0, layer).some((W, k) => !W && net.layers[k + 1].type === "dense")) {
      say(title, "Its weights are not available from the server for this model yet.");
      return;
    }
    const { values, from, shape } = pullBack(net, layer, index);
    const [H, W, C] = shape.length === 3 ? shape : [shape[0], 1, 1];
    const x = reading?.activations[from];
    paintTiles(left, C, H, W, (t, y, xx) => values[(y * W + xx) * C + t]);
    if (x) paintTiles(right, C, H, W, (t, y, xx) => values[(y * W + xx) * C + t] * x[(y * W + xx) * C + t]);
    else sized(right, 28, 28).clearRect(0, 0, 28, 28);
    const traced = layer - from > 1 ? ` (W${SUPERSCRIPTS[from]}⋯W${SUPERSCRIPTS[layer - 1] ?? ""} column ${index}, ignoring the nonlinearities: a rough picture)` : "";
    if (from === 0) {
      say(title, `Its incoming weights traced back to the ${values.length} pixels${traced}: ink on orange pixels excites it, ink on blue pixels inhibits it.`);
    } else {
      say(title, `Its incoming weights on the ${C} ${H}×${W} maps that layer ${from - 1} made and the flatten turned into one row${traced}: `
        + "orange where a lit map excites it, blue where it inhibits it.", ["its weights, one image per map", "× the maps of this drawing"]);
    }
  }

  function conv(net, reading, { layer, index }) {
    const spec = net.layers[layer], C = net.layers[layer - 1].shape[2], k = spec.size, Co = spec.shape[2];
    const values = reading?.activations[layer];
    const title = `Layer ${layer} (conv ${k}×${k}), map ${index}${values ? ` · strongest ${peakOf(values, index, Co).toFixed(2)}` : ""}`;
    const W = net.weights?.[layer - 1];
    if (W) paintTiles(left, C, k, k, (c, i, j) => W[((i * k + j) * C + c) * Co + index]);
    else sized(left, 28, 28).clearRect(0, 0, 28, 28);
    if (values) paintResponse(right, net.layers, layer, values, index, reading.activations[0]);
    const input = layer === 1 ? "the drawing" : `each of the ${C} maps of layer ${layer - 1}`;
    say(title, `Its ${C === 1 ? "kernel slides" : `${C} kernels slide`} over ${input}: at every place the ${k}×${k} weights times the pixels `
      + `under them are summed${C > 1 ? " over the channels" : ""}, plus a bias, through ${spec.activation}. Right: where on the drawing this map fired.`,
    [`its ${k}×${k} kernel${C > 1 ? "s, one per input channel" : ""}`, "where it fired on the drawing"]);
  }

  function pool(net, reading, { layer, index }) {
    const values = reading?.activations[layer], before = reading?.activations[layer - 1];
    const [h, w] = net.layers[layer].shape;
    if (before) {
      const [H, W, C] = net.layers[layer - 1].shape, strip = document.createElement("canvas");
      paintMaps(strip, before, [H, W, C]);
      const ctx = sized(left, W, H);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(strip, index * W, 0, W, H, 0, 0, W, H);
    }
    if (values) paintResponse(right, net.layers, layer, values, index, reading.activations[0]);
    say(`Layer ${layer} (pool), map ${index}`, `Each of its ${h}×${w} values is the largest of a 2×2 block of map ${index} of layer ${layer - 1} (left): `
      + "the map at half the size, keeping where it fired most.", [`map ${index} of layer ${layer - 1}`, "where it fired on the drawing"]);
  }

  return {
    update({ net, reading, selected }) {
      if (!selected || !net || selected.layer >= net.layers.length) {
        clear();
        say("What does a neuron look for?", "Click any map or neuron in the network above, or a weight image below, to see what it looks for.");
        for (const canvas of [left, right]) canvas.setAttribute("aria-label", "no neuron chosen");
        return;
      }
      clear();
      const kind = net.layers[selected.layer].type;
      if (kind === "conv") conv(net, reading, selected);
      else if (kind === "pool") pool(net, reading, selected);
      else dense(net, reading, selected);
    },
    destroy() {},
  };
}

function peakOf(values, channel, C) {
  let m = 0;
  for (let i = channel; i < values.length; i += C) m = Math.max(m, values[i]);
  return m;
}

