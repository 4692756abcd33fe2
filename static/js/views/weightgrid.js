// First-layer weights as images: column j of W¹ (784 values) drawn as a 28×28 picture of what
// hidden neuron j looks for. Orange = positive weight (ink there excites the neuron), blue =
// negative, near-white = zero (the palette of views/colors.js); each image is scaled by its own
// largest |w|.
// createWeightGrid(element, {columns, side, gap, onSelect(j)})
//   -> {update({images, selected}), destroy()}
// `images` is a (n, side, side) array: float, or uint8 quantised with .scale and .low
// (value = low + byte · scale) as decoded by socket.js.
import { frameScheduler } from "../frame.js";
import { byteLut, paintDiverging } from "./colors.js";

// The real values of image k of a (n, h, w) array, dequantised when it is quantised uint8.
export function imageValues(images, k) {
  const count = images.shape[1] * images.shape[2];
  const raw = images.subarray(k * count, (k + 1) * count);
  if (images.scale === undefined) return raw;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = images.low + raw[i] * images.scale;
  return values;
}

// Paint image k of a quantised uint8 (n, h, w) array at (x0, y0), scaled by its own largest
// |value|: one colour per byte value, looked up, instead of one colour computed per pixel.
function paintQuantised(target, images, k, x0, y0) {
  const [, h, w] = images.shape;
  const bytes = images.subarray(k * h * w, (k + 1) * h * w);
  let lo = 255, hi = 0;
  for (const b of bytes) { if (b < lo) lo = b; if (b > hi) hi = b; }
  const value = (b) => images.low + b * images.scale;
  const m = Math.max(Math.abs(value(lo)), Math.abs(value(hi)));
  const lut = byteLut(images, (v) => (m > 0 ? v / m : 0));
  const pixels = new Uint32Array(target.data.buffer);
  for (let r = 0; r < h; r++) {
    const row = (y0 + r) * target.width + x0;
    for (let c = 0; c < w; c++) pixels[row + c] = lut[bytes[r * w + c]];
  }
}

// The largest |value|.
export function maxAbs(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

export function createWeightGrid(element, options = {}) {
  const { columns = 16, side = 28, gap = 2, onSelect = () => {} } = options;
  const canvas = document.createElement("canvas");
  canvas.className = "weightgrid-canvas";
  const marker = document.createElement("div"); // a frame around the selected image
  marker.className = "weightgrid-marker";
  marker.hidden = true;
  element.append(canvas, marker);
  const ctx = canvas.getContext("2d");
  let images = null;
  let selected = null;
  let dirty = false;
  const cell = side + gap;

  function draw() {
    if (!images) return;
    const n = images.shape[0];
    const rows = Math.ceil(n / columns);
    const width = columns * cell + gap, height = rows * cell + gap;
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
    if (dirty) {
      const picture = ctx.createImageData(width, height);
      picture.data.fill(255);
      for (let k = 0; k < n; k++) {
        const x = gap + (k % columns) * cell, y = gap + Math.floor(k / columns) * cell;
        if (images.scale !== undefined) paintQuantised(picture, images, k, x, y);
        else { const values = imageValues(images, k); paintDiverging(picture, values, side, side, x, y, maxAbs(values)); }
      }
      ctx.putImageData(picture, 0, 0);
      dirty = false;
    }
    marker.hidden = selected === null || selected >= n;
    if (!marker.hidden) {
      const rect = canvas.getBoundingClientRect();
      const f = rect.width / width;
      marker.style.left = `${(gap / 2 + (selected % columns) * cell) * f}px`;
      marker.style.top = `${(gap / 2 + Math.floor(selected / columns) * cell) * f}px`;
      marker.style.width = marker.style.height = `${cell * f}px`;
    }
  }
  const scheduler = frameScheduler(draw);

  function onClick(event) {
    if (!images) return;
    const rect = canvas.getBoundingClientRect();
    const x = (event.clientX - rect.left) * (canvas.width / rect.width) - gap / 2;
    const y = (event.clientY - rect.top) * (canvas.height / rect.height) - gap / 2;
    const k = Math.floor(y / cell) * columns + Math.floor(x / cell);
    if (x >= 0 && k >= 0 && k < images.shape[0] && Math.floor(x / cell) < columns) onSelect(k);
  }
  canvas.addEventListener("click", onClick);

  return {
    update(state) {
      if (state.images !== undefined && state.images !== images) { images = state.images; dirty = true; }
      if (state.selected !== undefined) selected = state.selected;
      scheduler.request();
    },
    destroy() {
      scheduler.cancel();
      canvas.removeEventListener("click", onClick);
      canvas.remove();
      marker.remove();
    },
  };
}
