// The one diverging colour scale of every page: −1 blue, 0 near-white, +1 orange (style.css --neg,
// --mid, --pos), and lookup tables that turn a quantised uint8 array into RGBA pixels in one pass.
// Neuron maps, weights, weight images and a neuron's picture all use it.

export const NEG = [8, 119, 189];    // #0877bd
export const MID = [232, 234, 235];  // #e8eaeb
export const POS = [245, 147, 34];   // #f59322

// [r, g, b] for a value in [−1, 1] (clamped).
export function divergingRGB(v) {
  const t = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  const end = t < 0 ? NEG : POS;
  const s = Math.abs(t);
  return [0, 1, 2].map((i) => Math.round(MID[i] + (end[i] - MID[i]) * s));
}

export function cssColor(v, alpha = 1) {
  const [r, g, b] = divergingRGB(v);
  return `rgba(${r},${g},${b},${alpha})`;
}

// How a layer's outputs map onto [−1, 1]: sigmoid and softmax outputs live in [0, 1] (0.5 is the
// class boundary); the rest are clamped.
export function normaliser(activation) {
  if (activation === "sigmoid" || activation === "softmax") return (v) => 2 * v - 1;
  return (v) => v;
}

// An input feature's map scaled by its own largest magnitude (x1 reaches 6, x1² reaches 36).
export function inputNormaliser(array, index) {
  const r = array.shape[1] * array.shape[2];
  let lo = 255, hi = 0;
  for (let i = index * r; i < (index + 1) * r; i++) { lo = Math.min(lo, array[i]); hi = Math.max(hi, array[i]); }
  const m = Math.max(Math.abs(array.low + lo * array.scale), Math.abs(array.low + hi * array.scale)) || 1;
  return (v) => v / m;
}

// 256 packed RGBA pixels (little-endian ABGR in a Uint32Array), one per byte value of a quantised
// uint8 array: value = low + byte * scale, coloured after `normalise`; `discrete` paints only the sign.
export function byteLut(array, normalise, discrete = false) {
  const lut = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let v = normalise(array.low + byte * array.scale);
    if (discrete) v = v > 0 ? 1 : -1;
    const [r, g, b] = divergingRGB(v);
    lut[byte] = (255 << 24 | b << 16 | g << 8 | r) >>> 0;
  }
  return lut;
}

// Paint `values` (h·w, row-major) into `target` (an ImageData) at (x0, y0), scaled so that
// ±limit are the full colours.
export function paintDiverging(target, values, w, h, x0, y0, limit) {
  const scale = limit > 0 ? 1 / limit : 0;
  const pixels = new Uint32Array(target.data.buffer);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const [R, G, B] = divergingRGB(values[r * w + c] * scale);
      pixels[(y0 + r) * target.width + x0 + c] = (255 << 24 | B << 16 | G << 8 | R) >>> 0;
    }
  }
}

// Paint neuron `index` of a quantised (n, r, r) map array into an ImageData of size r×r.
export function paintMap(imageData, array, index, lut) {
  const r = array.shape[1] * array.shape[2];
  const bytes = array.subarray(index * r, (index + 1) * r);
  const pixels = new Uint32Array(imageData.data.buffer);
  for (let i = 0; i < r; i++) pixels[i] = lut[bytes[i]];
}
