// How the network does on the test set: the confusion matrix (row = true digit, column =
// predicted digit; green diagonal = right, red elsewhere = the mistakes, shaded by their share of
// the row) and a gallery of misclassified test digits captioned "true → predicted".
// createConfusion(element, {cell, galleryElement}) -> {update({confusion, gallery, labels, predicted}), destroy()}
// The gallery goes into galleryElement when given, else beside the matrix.
// confusion: (10, 10) counts; gallery: (k, 28, 28) uint8 images (255 = ink, or quantised with
// .scale/.low); labels, predicted: k digits each.
import { fitCanvas, frameScheduler } from "../frame.js";
import { inkOf, paintGrey } from "./grey.js";

export function createConfusion(element, options = {}) {
  const { cell = 26, galleryElement = null } = options;
  const root = document.createElement("div");
  root.className = "confusion";
  const matrix = document.createElement("canvas");
  matrix.className = "confusion-matrix";
  const summary = document.createElement("p");
  summary.className = "confusion-summary";
  const gallery = document.createElement("div");
  gallery.className = "gallery";
  root.append(matrix, summary);
  (galleryElement ?? root).append(gallery);
  element.append(root);

  const margin = { left: 30, top: 30 };
  let state = null;
  let hover = null; // [row, col]
  let galleryDirty = true;

  function drawMatrix() {
    const k = 10;
    const width = margin.left + k * cell + 2, height = margin.top + k * cell + 2;
    const ctx = fitCanvas(matrix, width, height);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillStyle = "#666";
    ctx.fillText("predicted", margin.left + (k * cell) / 2, 7);
    ctx.save();
    ctx.translate(7, margin.top + (k * cell) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText("true", 0, 0);
    ctx.restore();
    const C = state?.confusion;
    for (let i = 0; i < k; i++) {
      ctx.fillStyle = "#444";
      ctx.fillText(String(i), margin.left + (i + 0.5) * cell, margin.top - 8);
      ctx.fillText(String(i), margin.left - 10, margin.top + (i + 0.5) * cell);
    }
    for (let r = 0; r < k; r++) {
      let total = 0;
      if (C) for (let c = 0; c < k; c++) total += C[r * k + c];
      for (let c = 0; c < k; c++) {
        const count = C ? C[r * k + c] : 0;
        const share = total ? count / total : 0;
        const x = margin.left + c * cell, y = margin.top + r * cell;
        // a mistake rate of 5 % of the row is already full red: mistakes are rare
        const t = r === c ? share : Math.min(1, share / 0.05);
        ctx.fillStyle = r === c
          ? `rgba(11,122,90,${(0.08 + 0.85 * t).toFixed(3)})`
          : count ? `rgba(192,57,43,${(0.08 + 0.8 * t).toFixed(3)})` : "#f4f4f2";
        ctx.fillRect(x + 1, y + 1, cell - 2, cell - 2);
        if (count) {
          ctx.fillStyle = (r === c ? t > 0.5 : t > 0.6) ? "#fff" : "#333";
          ctx.font = `${count >= 1000 ? 8 : 9}px system-ui, sans-serif`;
          ctx.fillText(String(count), x + cell / 2, y + cell / 2 + 0.5);
        }
      }
    }
    if (hover) {
      ctx.strokeStyle = "#222";
      ctx.lineWidth = 1.5;
      ctx.strokeRect(margin.left + hover[1] * cell + 0.5, margin.top + hover[0] * cell + 0.5, cell - 1, cell - 1);
    }
  }

  function drawGallery() {
    gallery.replaceChildren();
    const images = state?.gallery;
    if (!images || !images.shape[0]) {
      gallery.textContent = state ? "None: every test digit is read right." : "The test digits the network misreads appear here.";
      return;
    }
    const [n, h, w] = images.shape;
    const ink = inkOf(images);
    for (let k = 0; k < n; k++) {
      const figure = document.createElement("figure");
      const tile = document.createElement("canvas");
      tile.width = w; tile.height = h;
      paintGrey(tile, images.subarray(k * w * h, (k + 1) * w * h), ink);
      tile.setAttribute("role", "img");
      tile.setAttribute("aria-label", `a test digit ${state.labels[k]}, read as ${state.predicted[k]}`);
      const caption = document.createElement("figcaption");
      caption.innerHTML = `<b>${state.labels[k]}</b> → <span class="wrong">${state.predicted[k]}</span>`;
      figure.title = `a ${state.labels[k]} read as ${state.predicted[k]}`;
      figure.append(tile, caption);
      gallery.append(figure);
    }
  }

  function draw() {
    drawMatrix();
    if (galleryDirty) { drawGallery(); galleryDirty = false; }
    const C = state?.confusion;
    matrix.setAttribute("role", "img");
    if (!C) {
      summary.textContent = "The whole test set is scored after each epoch and when you pause.";
      matrix.setAttribute("aria-label", "Confusion matrix of the test set: not scored yet");
      return;
    }
    let right = 0, total = 0;
    for (let r = 0; r < 10; r++) for (let c = 0; c < 10; c++) { total += C[r * 10 + c]; if (r === c) right += C[r * 10 + c]; }
    matrix.setAttribute("aria-label", `Confusion matrix of the test set, true digit by row, the digit read by column: ${right} of ${total} read right`);
    if (hover) {
      const [r, c] = hover, count = C[r * 10 + c];
      let row = 0;
      for (let j = 0; j < 10; j++) row += C[r * 10 + j];
      summary.textContent = r === c
        ? `${count} of ${row} test ${r}s read correctly (${(100 * count / Math.max(row, 1)).toFixed(1)} %)`
        : `${count} test ${r}s read as ${c} (${(100 * count / Math.max(row, 1)).toFixed(1)} % of the ${r}s)`;
    } else {
      summary.textContent = `${right} of ${total} test digits read right, ${total - right} wrong. Point at a cell for its count.`;
    }
  }
  const scheduler = frameScheduler(draw);

  function onMove(event) {
    const rect = matrix.getBoundingClientRect();
    const c = Math.floor((event.clientX - rect.left - margin.left) / cell);
    const r = Math.floor((event.clientY - rect.top - margin.top) / cell);
    const next = r >= 0 && r < 10 && c >= 0 && c < 10 ? [r, c] : null;
    if (String(next) !== String(hover)) { hover = next; scheduler.request(); }
  }
  const onLeave = () => { hover = null; scheduler.request(); };
  matrix.addEventListener("mousemove", onMove);
  matrix.addEventListener("mouseleave", onLeave);
  scheduler.request();

  return {
    update(next) {
      state = next;
      galleryDirty = true;
      scheduler.request();
    },
    destroy() {
      scheduler.cancel();
      matrix.removeEventListener("mousemove", onMove);
      matrix.removeEventListener("mouseleave", onLeave);
      root.remove();
      gallery.remove();
    },
  };
}
