// Inside the network that reads the drawing: every layer lit by its activations (views/digitnet.js:
// feature maps, cells, outputs) and, for the map or neuron clicked, what it looks for
// (digits/inspector.js). A pretrained model's layers and weights come from
// GET /api/models/{name}/weights; the live network's from the session (`configured`, snapshots).
// createInside(root, {onSelect({layer, index})})
//   -> {update({reader, live: {network, weights}, prediction, selected}), destroy()}
//   network: the server's network description ({sizes, activations} and, for conv networks,
//   input_shape, layers, shapes); weights: one array per layer (null where there are none);
//   prediction: a reading (digits/reader.js) or null.
import { dequantised, getFrame } from "../socket.js";
import { createDigitNet, describeLayer } from "../views/digitnet.js";
import { createInspector } from "./inspector.js";

// The view's description of a network: its layers, the input first, each with its output shape.
export function layersOf(network) {
  if (network.layers) {
    return [{ type: "input", shape: network.input_shape },
      ...network.layers.map((spec, l) => ({ ...spec, shape: network.shapes?.[l] ?? spec.shape }))];
  }
  const side = Math.round(Math.sqrt(network.sizes[0]));   // a dense digit reader: 784 = 28 × 28 pixels
  return [{ type: "input", shape: [side, side, 1] },
    ...network.sizes.slice(1).map((n, l) => ({ type: "dense", size: n, shape: [n], activation: network.activations[l] }))];
}

export function createInside(root, { onSelect }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const state = { reader: null, pretrained: {}, live: null, liveLayers: null, prediction: null, selected: null };
  const net = createDigitNet($("net"), { height: 380, onSelect });
  const inspector = createInspector(root);

  function source() {
    if (state.reader === "live") {
      return state.live && { layers: state.liveLayers, weights: state.live.weights };
    }
    const known = state.pretrained[state.reader];
    if (known) return known;
    // no weights frame (yet): the layers of a reading, without weights
    return state.prediction?.layers && { layers: layersOf({ input_shape: [28, 28, 1], layers: state.prediction.layers }), weights: null };
  }

  function show() {
    const s = source();
    const label = document.querySelector(`input[name=reader][value="${state.reader}"]`)?.parentElement?.textContent.trim();
    $("net-source").textContent = label ? `· ${label}` : "";
    describe(s);
    if (s) net.update({ net: s, selected: state.selected, activations: state.prediction?.activations ?? null });
    inspector.update({ net: s, reading: state.prediction, selected: state.selected });
  }

  // The network view's text alternative: what it shows, and the reading it lights up.
  function describe(s) {
    const p = state.prediction, L = s ? s.layers.length - 1 : 0, target = state.selected;
    const name = (t) => {
      const kind = s.layers[t.layer]?.type;
      return t.layer === L ? `output ${t.index}` : kind === "dense" ? `layer ${t.layer}, neuron ${t.index}` : `layer ${t.layer} (${kind}), map ${t.index}`;
    };
    const words = !s ? "The network, layer by layer: loading"
      : `The network, layer by layer (${s.layers.map((layer, l) => describeLayer(layer, l, L)).join(", ")}), lit by its activations`
        + (p ? `: it reads ${p.digit}, ${Math.round(100 * p.probabilities[p.digit])} % sure` : ": nothing drawn yet")
        + (target && target.layer <= L ? `; selected: ${name(target)}` : "");
    if ($("net").getAttribute("aria-label") !== words) $("net").setAttribute("aria-label", words);
  }

  // A pretrained model's weights: a binary frame with W1 … WL (conv weights (k, k, C_in, C_out)).
  async function loadPretrained(name) {
    if (name === "live" || name in state.pretrained) return;
    state.pretrained[name] = null;
    try {
      const frame = await getFrame(`/api/models/${encodeURIComponent(name)}/weights`);
      const layers = layersOf(frame);
      state.pretrained[name] = { layers, weights: layers.slice(1).map((_, l) => dequantised(frame.arrays[`W${l + 1}`])) };
    } catch {
      delete state.pretrained[name];   // tried again when this model is chosen again
      return;
    }
    show();
  }

  return {
    update(next) {
      if (next.live?.network && next.live.network !== state.live?.network) state.liveLayers = layersOf(next.live.network);
      Object.assign(state, next);
      if (next.reader) loadPretrained(next.reader);
      show();
    },
    destroy() { net.destroy(); inspector.destroy(); },
  };
}
