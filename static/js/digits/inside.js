// Inside the network that reads the drawing: every layer lit by its activations (views/digitnet.js)
// and, for the neuron clicked, the picture of what it looks for (its weights pulled back to the
// 28×28 pixels) and those weights times the drawing. The pretrained model's weights come from
// GET /api/models/pretrained/weights; the live network's from the session's snapshots.
// createInside(root, {onSelect({layer, index})})
//   -> {update({reader, live: {sizes, activations, weights}, prediction, selected}), destroy()}
import { getFrame } from "../socket.js";
import { createDigitNet, neuronImage } from "../views/digitnet.js";
import { paintDiverging } from "../views/colors.js";
import { maxAbs } from "../views/weightgrid.js";

const PRETRAINED_WEIGHTS = "/api/models/pretrained/weights";
const SUPERSCRIPTS = "²³⁴⁵⁶⁷⁸⁹";

export function createInside(root, { onSelect }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const state = { reader: "pretrained", pretrained: null, live: null, prediction: null, selected: null };
  const net = createDigitNet($("net"), { height: 380, onSelect });

  function source() {
    return state.reader === "live" ? state.live : state.pretrained;
  }

  function show() {
    const s = source();
    $("net-source").textContent = state.reader === "live" ? "· the network training here" : "· the pretrained model";
    describe(s);
    if (s) {
      net.update({ sizes: s.sizes, activationNames: s.activations, weights: s.weights, selected: state.selected,
        activations: state.prediction?.activations ?? null });
    }
    showNeuron(s);
  }

  // The network view's text alternative: what it shows, and the reading it lights up.
  function describe(s) {
    const p = state.prediction;
    const words = !s ? "The network, layer by layer: loading"
      : `The network ${s.sizes.join("–")}, layer by layer, lit by its activations`
        + (p ? `: it reads ${p.digit}, ${Math.round(100 * p.probabilities[p.digit])} % sure` : ": nothing drawn yet")
        + (state.selected ? `; selected: ${neuronName(s, state.selected)}` : "");
    if ($("net").getAttribute("aria-label") !== words) $("net").setAttribute("aria-label", words);
  }

  function neuronName(s, target) {
    return target.layer === s.sizes.length - 1 ? `Output ${target.index}` : `Layer ${target.layer}, neuron ${target.index}`;
  }

  // "What this neuron looks for": its incoming weights drawn as a 28×28 image.
  function showNeuron(s) {
    const target = state.selected;
    const ctx = $("neuron-image").getContext("2d"), inputCtx = $("neuron-input").getContext("2d");
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    inputCtx.clearRect(0, 0, inputCtx.canvas.width, inputCtx.canvas.height);
    const label = (image, input) => {
      $("neuron-image").setAttribute("aria-label", image);
      $("neuron-input").setAttribute("aria-label", input);
    };
    label("no neuron chosen", "no neuron chosen");
    if (!target || !s) {
      $("neuron-title").textContent = "What does a neuron look for?";
      $("neuron-text").textContent = "Click any neuron in the network above, or a weight image below, to see the picture of its incoming weights.";
      return;
    }
    const name = neuronName(s, target);
    const a = state.prediction?.activations[target.layer]?.[target.index];
    $("neuron-title").textContent = a === undefined ? name : `${name} · activation ${a.toFixed(3)}`;
    if (!s.weights || s.weights.slice(0, target.layer).some((W) => !W)) {
      $("neuron-text").textContent = "Its weights are not available from the server for this model yet.";
      return;
    }
    const values = neuronImage(s.sizes, s.weights, target.layer, target.index);
    paint(ctx, values);
    const x = state.prediction?.activations[0];
    if (x) paint(inputCtx, values.map((w, i) => w * x[i])); // which pixels of the drawing push it up or down
    label(`${name}: its incoming weights as a 28×28 picture, orange where ink excites it, blue where ink inhibits it`,
      x ? `${name}: its weights times the drawing, the pixels that push it up (orange) or down (blue)` : "nothing drawn yet");
    $("neuron-text").textContent = target.layer === 1
      ? `Its ${s.sizes[0]} incoming weights as a picture: ink on orange pixels excites it, ink on blue pixels inhibits it.`
      : `Its incoming weights traced back through the ${target.layer - 1} layer${target.layer > 2 ? "s" : ""} below to the pixels `
        + `(W¹${target.layer > 2 ? "⋯" : ""}W${SUPERSCRIPTS[target.layer - 2] ?? ""} column ${target.index}, ignoring the nonlinearities): `
        + "a rough picture of what excites it.";
  }

  function paint(ctx, values) {
    const { width, height } = ctx.canvas;   // the input image's side: the template's canvases are 28×28
    const img = ctx.createImageData(width, height);
    paintDiverging(img, values, width, height, 0, 0, maxAbs(values));
    ctx.putImageData(img, 0, 0);
  }

  // The pretrained model's weights: a binary frame with W1 … WL. Without them the view shows the
  // activations but no edges (the shape then comes from the first reading).
  async function loadPretrained() {
    try {
      const frame = await getFrame(PRETRAINED_WEIGHTS);
      const L = frame.sizes.length - 1;
      state.pretrained = { sizes: frame.sizes, activations: frame.activations,
        weights: Array.from({ length: L }, (_, l) => frame.arrays[`W${l + 1}`] ?? null) };
    } catch {
      state.pretrained = null;
    }
    show();
  }
  loadPretrained();

  return {
    update(next) {
      Object.assign(state, next);
      if (!state.pretrained && state.reader === "pretrained" && next.prediction?.activations) {
        const sizes = next.prediction.activations.map((a) => a.length);   // the shape, from a reading
        state.pretrained = { sizes, activations: [], weights: null };
      }
      show();
    },
    destroy() { net.destroy(); },
  };
}
