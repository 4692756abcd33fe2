// The output plot: the network's output over the input plane [−e, e]² (the decision boundary),
// with the training points (white rim) and, when shown, the test points (dark rim) drawn on it.
// Clicking the plot reports the point clicked, so the page can add a point there.
//
// createHeatmap(element, {onClick({x1, x2, shiftKey}), size})
//   -> {update({map, mapNeuron, activation, extent, points, showTest, discretize, problem, note}), destroy()}
// map: a quantised (n, r, r) maps array (the output layer's) over [−extent, extent]²; neuron
// `mapNeuron` is drawn (the class-1 output of a softmax pair). points: {train: [[x1, x2, label]],
// test: [...]}. note: a text shown over the plot instead (e.g. "no plane for 3 inputs").
import { fitCanvas, frameScheduler } from "../frame.js";
import { byteLut, cssColor, normaliser, paintMap } from "./colors.js";

const AXIS = 30;   // room for the tick labels below and left of the plot
const PAD = 8;     // room for the last tick label above and right of it

export function createHeatmap(element, options) {
  const { onClick, size = 300 } = options;
  element.classList.add("heatmap");
  const mapCanvas = document.createElement("canvas");      // the r×r map, scaled up by CSS
  const pointCanvas = document.createElement("canvas");    // axes and points, redrawn when they change
  mapCanvas.className = "heatmap-map";
  pointCanvas.className = "heatmap-points";
  pointCanvas.setAttribute("role", "img");
  const note = Object.assign(document.createElement("div"), { className: "heatmap-note", hidden: true });
  element.append(mapCanvas, pointCanvas, note);
  const outer = size + AXIS + PAD;
  element.style.width = element.style.height = `${outer}px`;
  Object.assign(mapCanvas.style, { left: `${AXIS}px`, top: `${PAD}px`, width: `${size}px`, height: `${size}px` });

  const state = {
    map: null, activation: "tanh", mapNeuron: 0, discretize: false, extent: 6, note: null,
    points: { train: [], test: [] }, showTest: false, problem: "classification",
    mapDirty: false, pointsDirty: true, image: null,
  };

  const toPixel = (v) => ((v + state.extent) / (2 * state.extent)) * size;

  function drawMap() {
    const { map } = state;
    if (!map) {
      mapCanvas.getContext("2d").clearRect(0, 0, mapCanvas.width, mapCanvas.height);
      return;
    }
    const r = map.shape[1];
    if (mapCanvas.width !== r) { mapCanvas.width = mapCanvas.height = r; state.image = null; }
    const ctx = mapCanvas.getContext("2d");
    state.image ??= ctx.createImageData(r, r);
    paintMap(state.image, map, state.mapNeuron, byteLut(map, normaliser(state.activation), state.discretize));
    ctx.putImageData(state.image, 0, 0);
  }

  function drawPoint(ctx, [x1, x2, label], rim, radius) {
    const v = state.problem === "regression" ? label : label > 0 ? 1 : -1;
    ctx.beginPath();
    ctx.arc(AXIS + toPixel(x1), PAD + size - toPixel(x2), radius, 0, 2 * Math.PI);
    ctx.fillStyle = cssColor(v);
    ctx.fill();
    ctx.strokeStyle = rim;
    ctx.stroke();
  }

  function drawPoints() {
    const ctx = fitCanvas(pointCanvas, outer, outer);
    ctx.clearRect(0, 0, outer, outer);
    if (state.note) { pointCanvas.setAttribute("aria-label", state.note); return; }   // no plane: no axes, no points
    ctx.fillStyle = "#666"; ctx.font = "10px sans-serif"; ctx.textAlign = "center";
    for (const f of [-1, -0.5, 0, 0.5, 1]) {
      const t = f * state.extent, label = String(+t.toFixed(2));
      ctx.fillText(label, AXIS + toPixel(t), PAD + size + 12);
      ctx.save(); ctx.textAlign = "right"; ctx.fillText(label, AXIS - 3, PAD + size - toPixel(t) + 3); ctx.restore();
    }
    const { train, test } = state.points;
    const radius = train.length + test.length <= 20 ? 7 : 3.5;   // a truth table's few points stand out
    ctx.lineWidth = radius > 5 ? 2 : 1;
    for (const p of train) drawPoint(ctx, p, "#fff", radius);
    if (state.showTest) for (const p of test) drawPoint(ctx, p, "#222", radius);
    pointCanvas.setAttribute("aria-label", `The network's output over the plane, x₁ and x₂ from −${state.extent} to ${state.extent}: `
      + `orange where it says +1, blue where it says −1, with ${train.length} training points`
      + (state.showTest ? ` and ${test.length} test points` : "") + "; click to add a point");
    element.dataset.trainPoints = state.points.train.length;
    element.dataset.testPoints = state.showTest ? state.points.test.length : 0;
  }

  function draw() {
    if (state.mapDirty) { drawMap(); state.mapDirty = false; }
    if (state.pointsDirty) { drawPoints(); state.pointsDirty = false; }
  }

  function onPointer(event) {
    const rect = mapCanvas.getBoundingClientRect();
    const px = (event.clientX - rect.left) / rect.width, py = (event.clientY - rect.top) / rect.height;
    if (px < 0 || px > 1 || py < 0 || py > 1) return;
    const e = state.extent;
    onClick({ x1: -e + 2 * e * px, x2: e - 2 * e * py, shiftKey: event.shiftKey });
  }

  const scheduler = frameScheduler(draw);
  pointCanvas.addEventListener("click", onPointer);
  scheduler.request();

  return {
    update(changes) {
      if ("map" in changes || "activation" in changes || "discretize" in changes || "mapNeuron" in changes) state.mapDirty = true;
      if (["points", "showTest", "problem", "extent", "note"].some((k) => k in changes)) state.pointsDirty = true;
      Object.assign(state, changes);
      note.hidden = !state.note;
      note.textContent = state.note ?? "";
      scheduler.request();
    },
    destroy() {
      scheduler.cancel();
      pointCanvas.removeEventListener("click", onPointer);
      element.replaceChildren();
    },
  };
}
