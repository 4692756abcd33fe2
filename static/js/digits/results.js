// What the session's frames show on the Digits page: the first-layer weights as images (from the
// snapshots' weights_img), the confusion matrix and the misread test digits (from evaluations),
// and the live network's weights for the network view (W¹ rebuilt from its images).
// createResults(root, {onSelectImage(j), onLive({weights, images})})
//   -> {update({network, snapshot, evaluation, selected, clear}), destroy()}
import { createConfusion } from "../views/confusion.js";
import { createWeightGrid, imageValues } from "../views/weightgrid.js";

export function createResults(root, { onSelectImage, onLive }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const confusion = createConfusion($("confusion"), { galleryElement: $("gallery") });
  let grid = null;
  let network = null;      // {sizes, activations}
  let weights = null;      // one Float32Array per layer, W1 first

  function onSnapshot({ arrays }) {
    if (!network) return;
    const L = network.sizes.length - 1;
    weights ??= new Array(L).fill(null);
    for (let l = 1; l <= L; l++) if (arrays[`W${l}`]) weights[l - 1] = arrays[`W${l}`];
    const images = arrays.weights_img;
    if (images) {
      const [n1, h, w] = images.shape, n0 = h * w, W1 = new Float32Array(n0 * n1);
      for (let j = 0; j < n1; j++) {
        const column = imageValues(images, j);
        for (let i = 0; i < n0; i++) W1[i * n1 + j] = column[i];
      }
      weights[0] = W1;
      if (!grid) {
        $("weights").replaceChildren();
        grid = createWeightGrid($("weights"), { columns: 16, onSelect: onSelectImage });
      }
      grid.update({ images });
      $("weights").setAttribute("aria-label", `First-layer weights: ${n1} pictures of ${h}×${w}, one per neuron of layer 1, `
        + "orange where ink excites it, blue where ink inhibits it");
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
