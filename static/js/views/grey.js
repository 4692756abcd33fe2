// The one painter of 28×28 digits in grey levels (white ink on black, as MNIST stores them):
// the image the network saw, the input tile of the network view, the misread test digits.
// paintGrey(canvas, values, toUnit) draws values (h·w, row-major, h×w = the canvas size) with
// toUnit(v) -> ink in [0, 1]; null values paint the canvas black.

export const unitInk = (v) => v;                            // floats in [0, 1]: the network's input
export const byteInk = (v) => v / 255;                      // uint8, 255 = ink
export const quantisedInk = (array) => (v) => array.low + v * array.scale;   // quantised uint8 frames

export function paintGrey(canvas, values, toUnit = unitInk) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, canvas.height);
  const pixels = new Uint32Array(image.data.buffer);
  for (let p = 0; p < pixels.length; p++) {
    const ink = values ? Math.round(255 * Math.min(Math.max(toUnit(values[p]), 0), 1)) : 0;
    pixels[p] = (255 << 24 | ink << 16 | ink << 8 | ink) >>> 0;   // RGBA bytes, little-endian
  }
  ctx.putImageData(image, 0, 0);
}

// A picture's ink function for an array as socket.js decodes it: quantised, plain uint8, or floats.
export function inkOf(array) {
  if (array.scale !== undefined) return quantisedInk(array);
  return array instanceof Uint8Array ? byteInk : unitInk;
}
