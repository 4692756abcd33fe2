// What the session's frames show on the Digits page: the first-layer weights as images (from the
// snapshots' weights_img: a dense layer's 28×28 pictures, or a first conv layer's k×k kernels),
// the confusion matrix and the misread test digits (from evaluations), and the live network's
// weights for the network view (a dense W¹ rebuilt from its images; quantised weights as values).
// createResults(root, {onSelectImage(j), onLive({weights, images})})
//   -> {update({network, snapshot, evaluation, selected, clear}), destroy()}
import { createConfusion } from "../views/confusion.js";
import { dequantised } from "../socket.js";
import { createWeightGrid, imageValues } from "../views/weightgrid.js";

export function createResults(root, { onSelectImage, onLive }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const confusion = createConfusion($("confusion"), { galleryElement: $("gallery") });
  let grid = null, gridShape = "";
  let network = null;      // {sizes, activations} (and layers for a conv network)
  let weights = null;      // one Float32Array per layer, W1 first

  function onSnapshot({ arrays }) {
    if (!network) return;
    const L = network.sizes.length - 1;
    weights ??= new Array(L).fill(null);
    for (let l = 1; l <= L; l++) if (arrays[`W${l}`]) weights[l - 1] = dequantised(arrays[`W${l}`]);
    const images = arrays.weights_img;
    if (images) {
      const [n1, h, w] = images.shape, n0 = h * w;
      if (!network.layers) {   // a dense first layer: W¹ travels only as its images
        const W1 = new Float32Array(n0 * n1);
        for (let j = 0; j < n1; j++) {
          const column = imageValues(images, j);
          for (let i = 0; i < n0; i++) W1[i * n1 + j] = column[i];
        }
        weights[0] = W1;
      }
      if (!grid || gridShape !== `${n1}×${h}`) {   // another network: a grid of its own size
        gridShape = `${n1}×${h}`;
        grid?.destroy();
        $("weights").replaceChildren();
        grid = createWeightGrid($("weights"), { columns: h < 28 ? Math.min(n1, 16) : 16, side: h, onSelect: onSelectImage });
        $("weights-sub").textContent = network.layers ? `the ${h}×${h} kernels of the first conv layer: what each of its ${n1} maps looks for · click one`
          : "what each hidden neuron of layer 1 looks for · click one";
      }
      $("weights").style.maxWidth = h < 28 ? `${Math.min(n1, 16) * 48}px` : "";   // kernels: about 40 px each
      grid.update({ images });
      $("weights").setAttribute("aria-label", network.layers
        ? `First conv layer's kernels: ${n1} pictures of ${h}×${w}, one per feature map, orange where ink excites it, blue where ink inhibits it`
        : `First-layer weights: ${n1} pictures of ${h}×${w}, one per neuron of layer 1, orange where ink excites it, blue where ink inhibits it`);
    }
    onLive({ weights, images: Boolean(images) });
  }

  return {
    update({ network: next, snapshot, evaluation, selected, clear }) {
      if (next) { network = next; weights = null; }
      if (snapshot) onSnapshot(snapshot);
      if (evaluation) {
        confusion.update({ confusion: evaluation.arrays.confusion, gallery: evaluation.arrays.gallery,
          labels: evaluation.gallery_labels ?? [], predicted: evaluation.gallery_predicted ?? [] });
      }
      if (clear) confusion.update(null);
      if (selected !== undefined) grid?.update({ selected });
    },
    destroy() { grid?.destroy(); confusion.destroy(); },
  };
}
