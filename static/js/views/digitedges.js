// The lines of the digit network view, and what a neuron or a map looks for.
//   topK(scores, k)                       indices of the k largest scores, best first
//   computeEdges(net, activations, selected) -> per layer a list of {i, j, c, units} or null:
//       dense layers: the strongest contributions a_i · w_ij (EDGES_PER_LAYER, or into the selected
//       neuron only, EDGES_PER_NEURON); a selected conv map: one line per input channel c, the mean over
//       the map of Σ_ij W[i, j, c, o] · a[y + i, x + j, c] (its kernel on that channel's map); a selected
//       pool map: one line from the map it pools. `units` lines join whole maps, not single values.
//   pullBack(net, layer, index)           a dense neuron's weights traced back, through the dense
//       layers below (v = W ⋯ e_j, the nonlinearities ignored), to the pixels or to the maps a flatten
//       made rows of: {values, from (the layer whose output they weigh), shape}
// net: {layers: [{type, shape, size?, padding?}], weights: [W¹, …, Wᴸ]} with layers[0] the input
// ({type: "input", shape}); a dense W is (n_in · n_out) row-major, a conv W (k, k, C_in, C_out).

const EDGES_PER_LAYER = 80;
const EDGES_PER_NEURON = 48;

export function topK(scores, k) {
  const heap = new Int32Array(Math.min(k, scores.length)); // min-heap of indices by score
  let size = 0;
  const less = (a, b) => scores[heap[a]] < scores[heap[b]];
  const swap = (a, b) => { const t = heap[a]; heap[a] = heap[b]; heap[b] = t; };
  function down(i) {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < size && less(l, m)) m = l;
      if (r < size && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m); i = m;
    }
  }
  for (let i = 0; i < scores.length; i++) {
    if (size < heap.length) {
      heap[size] = i;
      for (let c = size++; c > 0;) { const p = (c - 1) >> 1; if (!less(c, p)) break; swap(c, p); c = p; }
    } else if (heap.length && scores[i] > scores[heap[0]]) {
      heap[0] = i; down(0);
    }
  }
  return Array.from(heap.subarray(0, size)).sort((a, b) => scores[b] - scores[a]);
}

const count = (shape) => shape.reduce((a, b) => a * b, 1);

function denseEdges(W, a, nIn, nOut, only) {
  const contributions = new Float32Array(only >= 0 ? nIn : nIn * nOut);
  if (only >= 0) {
    for (let i = 0; i < nIn; i++) contributions[i] = a[i] * W[i * nOut + only];
  } else {
    for (let i = 0; i < nIn; i++) {
      const ai = a[i];
      if (ai === 0) continue;
      for (let j = 0; j < nOut; j++) contributions[i * nOut + j] = ai * W[i * nOut + j];
    }
  }
  const magnitude = contributions.map(Math.abs);
  const best = topK(magnitude, only >= 0 ? EDGES_PER_NEURON : EDGES_PER_LAYER);
  return best.filter((k) => magnitude[k] > 0).map((k) => (only >= 0
    ? { i: k, j: only, c: contributions[k] }
    : { i: Math.floor(k / nOut), j: k % nOut, c: contributions[k] }));
}

// Mean over map o of each input channel's part of z: the kernel W[:, :, c, o] slid over channel c.
export function channelContributions(W, layer, inShape, a, o) {
  const [H, Wd, C] = inShape, [Ho, Wo, Co] = layer.shape, k = layer.size;
  const pad = layer.padding === "valid" ? 0 : Math.floor((k - 1) / 2);
  const sums = new Float32Array(C);
  for (let y = 0; y < Ho; y++) {
    for (let x = 0; x < Wo; x++) {
      for (let i = 0; i < k; i++) {
        const yy = y + i - pad;
        if (yy < 0 || yy >= H) continue;
        for (let j = 0; j < k; j++) {
          const xx = x + j - pad;
          if (xx < 0 || xx >= Wd) continue;
          const base = (yy * Wd + xx) * C, wBase = (i * k + j) * C;
          for (let c = 0; c < C; c++) sums[c] += W[(wBase + c) * Co + o] * a[base + c];
        }
      }
    }
  }
  return sums.map((s) => s / (Ho * Wo));
}

export function computeEdges(net, activations, selected) {
  const { layers, weights } = net;
  if (!activations || !weights) return null;
  return layers.slice(1).map((layer, k) => {
    const l = k + 1, W = weights[k], a = activations[l - 1];
    const only = selected && selected.layer === l ? selected.index : -1;
    if (layer.type === "dense") return W ? denseEdges(W, a, count(layers[l - 1].shape), layer.shape[0], only) : null;
    if (only < 0) return null;
    if (layer.type === "pool") return [{ i: only, j: only, c: 1, units: true }];
    if (layer.type !== "conv" || !W) return null;
    const sums = channelContributions(W, layer, layers[l - 1].shape, a, only);
    return Array.from(sums, (c, i) => ({ i, j: only, c, units: true })).filter((e) => e.c !== 0)
      .sort((e1, e2) => Math.abs(e2.c) - Math.abs(e1.c));
  });
}

export function pullBack(net, layer, index) {
  const { layers, weights } = net;
  let v = new Float32Array(count(layers[layer].shape));
  v[index] = 1;
  let l = layer;
  for (; l >= 1 && layers[l].type === "dense" && weights[l - 1]; l--) {
    const W = weights[l - 1], nIn = count(layers[l - 1].shape), nOut = v.length;
    const u = new Float32Array(nIn);
    for (let i = 0; i < nIn; i++) {
      let s = 0;
      for (let j = 0; j < nOut; j++) s += W[i * nOut + j] * v[j];
      u[i] = s;
    }
    v = u;
    if (layers[l - 1].type !== "dense") { l--; break; }
  }
  const from = l;
  const shape = layers[from].type === "flatten" ? layers[from - 1].shape : layers[from].shape;
  return { values: v, from, shape };
}
