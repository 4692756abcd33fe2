// Feature maps lit by their activations: 0 is the view's unlit cell colour, the layer's largest
// |activation| full yellow (positive) or blue (negative, e.g. after tanh). One 256-entry table per
// quantised layer turns its bytes into pixels in one pass (6,272 values of a 28×28×8 layer).
// litRGB(t) -> [r, g, b] for t in [−1, 1]; paintMaps(canvas, values, shape) draws the C maps of
// (H, W, C) values side by side, map c at x = c·W, on a canvas of C·W × H pixels.
import { NEG } from "./colors.js";

export const OFF = [38, 52, 64];
export const LIT = [255, 206, 84];

export function litRGB(t) {
  const s = Math.min(Math.abs(Number.isFinite(t) ? t : 0), 1);
  const end = t < 0 ? NEG : LIT;
  return OFF.map((o, k) => Math.round(o + (end[k] - o) * s));
}

const packed = ([r, g, b]) => (255 << 24 | b << 16 | g << 8 | r) >>> 0;   // RGBA bytes, little-endian

// The largest |value| of a layer's maps.
export function peak(values) {
  if (values.bytes) return Math.max(Math.abs(values.low), Math.abs(values.low + 255 * values.scale));
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

export function paintMaps(canvas, values, shape) {
  const [H, W, C] = shape;
  if (canvas.width !== C * W || canvas.height !== H) { canvas.width = C * W; canvas.height = H; }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(C * W, H);
  const pixels = new Uint32Array(image.data.buffer);
  const m = values ? peak(values) : 0, k = m > 0 ? 1 / m : 0;
  let colour;
  if (!values) colour = () => packed(OFF);
  else if (values.bytes) {
    const lut = new Uint32Array(256);
    for (let b = 0; b < 256; b++) lut[b] = packed(litRGB((values.low + b * values.scale) * k));
    colour = (i) => lut[values.bytes[i]];
  } else colour = (i) => packed(litRGB(values[i] * k));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * C;
      for (let c = 0; c < C; c++) pixels[y * C * W + c * W + x] = colour(i + c);
    }
  }
  ctx.putImageData(image, 0, 0);
}
