// A convolutional network's layers (the config field `layers`, docs/protocol.md) as the text a person
// types, and checked against the schema's limits before anything is sent:
//   "conv 5×5×8 valid, pool, conv 5×5×16 valid, pool, flatten, dense 64"
// conv K×K×C [same|valid] (x for ×, padding as the schema's default when left out), pool (2×2
// max-pooling), flatten, dense N (or just N). The output layer is not written: the server adds it.
// The limits come from the schema field (app/schema.py); the shape rules are the engine's
// (engine/spec.py): a kernel fits the maps coming in, a pool needs maps of 2×2 or more, and maps are
// flattened before any dense layer.

const TIMES = "×";

function item(entry, field) {
  switch (entry.type) {
    case "conv": return `conv ${entry.size}${TIMES}${entry.size}${TIMES}${entry.channels} ${entry.padding ?? field.padding}`;
    case "dense": return `dense ${entry.size}`;
    default: return entry.type;
  }
}

// The layers as text (the inverse of parseSpec).
export function formatSpec(field, layers) {
  return layers.map((entry) => item(entry, field)).join(", ");
}

// "64", "28×28", "24×24×8": a shape as the page writes it.
export function shapeText(shape) {
  return shape.length === 3 && shape[2] === 1 ? `${shape[0]}${TIMES}${shape[1]}` : shape.join(TIMES);
}

// Text → {layers} or {problem} quoting what was typed.
export function parseSpec(field, text) {
  const example = `layers separated by commas, like “conv 5${TIMES}5${TIMES}8, pool, flatten, dense 64”`;
  const parts = text.split(",").map((s) => s.trim().toLowerCase());
  if (!text.trim()) return { problem: `${field.label} is empty: give ${example}.` };
  const layers = [];
  for (const [i, part] of parts.entries()) {
    let m;
    if ((m = part.match(/^conv\s*(\d+)\s*[x×*]\s*(\d+)\s*[x×*]\s*(\d+)\s*([a-z]*)$/))) {
      const [, k1, k2, channels, padding] = m;
      if (k1 !== k2) return { problem: `Layer ${i + 1} “${part}”: kernels are square, K${TIMES}K${TIMES}channels, not ${k1}${TIMES}${k2}.` };
      if (padding && !field.paddings.includes(padding)) {
        return { problem: `Layer ${i + 1} “${part}”: padding “${padding}” is not one of ${field.paddings.join(", ")}.` };
      }
      layers.push({ type: "conv", size: Number(k1), channels: Number(channels), padding: padding || field.padding });
    } else if ((m = part.match(/^(?:dense\s*)?(\d+)$/))) {
      layers.push({ type: "dense", size: Number(m[1]) });
    } else if (/^(max)?pool(\s*2\s*[x×*]\s*2)?$/.test(part)) {
      layers.push({ type: "pool" });
    } else if (part === "flatten") {
      layers.push({ type: "flatten" });
    } else {
      return { problem: `${field.label}: “${part || "(nothing)"}” is not a layer: give ${example}.` };
    }
  }
  return { layers };
}

// The shape out of every layer, from `input` ([H, W, C]), or {problem} naming the layer, the
// setting, the value and what is allowed: the checks the server makes (app/convnet.py, engine/spec.py).
export function planSpec(field, input, layers) {
  const weighted = layers.filter((e) => e.type === "conv" || e.type === "dense").length;
  if (weighted > field.max_layers) {
    return { problem: `This server allows at most ${field.max_layers} conv and dense layers; these layers have ${weighted}.` };
  }
  const shapes = [];
  let shape = input;
  for (const [i, entry] of layers.entries()) {
    const name = `Layer ${i + 1} (${item(entry, field)})`;
    const maps = shape.length === 3;
    if (entry.type === "dense") {
      if (maps) return { problem: `${name} follows ${shapeText(shape)} maps: put “flatten” before it.` };
      if (!(entry.size >= 1 && entry.size <= field.max_width)) {
        return { problem: `${name}: a dense layer has 1 to ${field.max_width} neurons, not ${entry.size}.` };
      }
      shape = [entry.size];
    } else if (!maps) {
      return { problem: `${name} needs maps, but it comes after a flatten: conv and pool layers come first.` };
    } else if (entry.type === "conv") {
      const [H, W] = shape, k = entry.size, fit = Math.min(H, W, field.max_kernel);
      if (!(k >= 1 && k <= fit)) {
        const why = k > field.max_kernel ? `this server allows kernels up to ${field.max_kernel}${TIMES}${field.max_kernel}`
          : `the kernel must fit the ${H}${TIMES}${W} maps coming in`;
        return { problem: `${name}: the kernel size must be 1 to ${fit}, not ${k} (${why}).` };
      }
      if (!(entry.channels >= 1 && entry.channels <= field.max_width)) {
        return { problem: `${name}: a conv layer has 1 to ${field.max_width} channels, not ${entry.channels}.` };
      }
      shape = entry.padding === "valid" ? [H - k + 1, W - k + 1, entry.channels] : [H, W, entry.channels];
    } else if (entry.type === "pool") {
      if (shape[0] < field.pool || shape[1] < field.pool) {
        return { problem: `${name} needs maps of at least ${field.pool}${TIMES}${field.pool}, but its input is ${shapeText(shape)}: remove a pool.` };
      }
      shape = [Math.floor(shape[0] / field.pool), Math.floor(shape[1] / field.pool), shape[2]];
    } else {
      shape = [shape[0] * shape[1] * shape[2]];
    }
    shapes.push(shape);
  }
  if (shape.length === 3) return { problem: `The layers end with ${shapeText(shape)} maps: end them with “flatten” (and any dense layers).` };
  return { shapes };
}
