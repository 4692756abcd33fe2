// The output plot: the network's output over the input plane [−e, e]² (the decision boundary),
// with the training points (white rim) and, when shown, the test points (dark rim) drawn on it.
// Clicking the plot reports the point clicked, so the page can add a point there. From the
// keyboard the plot takes the focus with Tab: the arrow keys move a crosshair (Shift: larger
// steps, Home: the centre), Enter reports its point as a click would (Shift+Enter as a
// shift-click), and a live region says where it is, what the network outputs there, and what was added.
//
// createHeatmap(element, {onClick({x1, x2, shiftKey}), size})
//   -> {update({map, mapNeuron, activation, extent, points, showTest, discretize, problem, note}), destroy()}
// map: a quantised (n, r, r) maps array (the output layer's) over [−extent, extent]²; neuron
// `mapNeuron` is drawn (the class-1 output of a softmax pair). points: {train: [[x1, x2, label]],
// test: [...]}. note: a text shown over the plot instead (e.g. "no plane for 3 inputs").
import { fitCanvas, frameScheduler } from "../frame.js";
import { byteLut, cssColor, normaliser, paintMap } from "./colors.js";
import { shown } from "../format.js";

const AXIS = 30;   // room for the tick labels below and left of the plot
const PAD = 8;     // room for the last tick label above and right of it
const STEPS = 12;  // an arrow key moves the crosshair extent / STEPS, with Shift 4 times as far
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

export function createHeatmap(element, options) {
  const { onClick, size = 300 } = options;
  element.classList.add("heatmap");
  const mapCanvas = document.createElement("canvas");      // the r×r map, scaled up by CSS
  const pointCanvas = document.createElement("canvas");    // axes and points, redrawn when they change
  mapCanvas.className = "heatmap-map";
  pointCanvas.className = "heatmap-points";
  pointCanvas.setAttribute("role", "application");   // its arrow keys are its own
  const note = Object.assign(document.createElement("div"), { className: "heatmap-note", hidden: true });
  const said = Object.assign(document.createElement("div"), { className: "sr-only" });
  said.setAttribute("aria-live", "polite");
  element.append(mapCanvas, pointCanvas, note, said);
  const outer = size + AXIS + PAD;
  element.style.width = element.style.height = `${outer}px`;
  Object.assign(mapCanvas.style, { left: `${AXIS}px`, top: `${PAD}px`, width: `${size}px`, height: `${size}px` });

  const state = {
    map: null, activation: "tanh", mapNeuron: 0, discretize: false, extent: 6, note: null,
    points: { train: [], test: [] }, showTest: false, problem: "classification",
    mapDirty: false, pointsDirty: true, image: null,
    cross: null,    // the keyboard's crosshair {x1, x2} while the plot has the focus from the keyboard
    at: [0, 0],     // where the crosshair was last
    adding: null,   // the number of training points when Enter asked for one more
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
    pointCanvas.tabIndex = state.note ? -1 : 0;
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
      + (state.showTest ? ` and ${test.length} test points` : "") + "; click to add a point, or move the crosshair "
      + "with the arrow keys and press Enter (Shift+Enter: the other class)");
    if (state.cross) drawCross(ctx);
    element.dataset.trainPoints = state.points.train.length;
    element.dataset.testPoints = state.showTest ? state.points.test.length : 0;
  }

  function drawCross(ctx) {
    const x = AXIS + toPixel(state.cross.x1), y = PAD + size - toPixel(state.cross.x2);
    ctx.save();
    for (const [color, width] of [["#fff", 4], ["#1558b0", 2]]) {   // style.css --focus, on a white halo
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(AXIS, y); ctx.lineTo(x - 7, y); ctx.moveTo(x + 7, y); ctx.lineTo(AXIS + size, y);
      ctx.moveTo(x, PAD); ctx.lineTo(x, y - 7); ctx.moveTo(x, y + 7); ctx.lineTo(x, PAD + size);
      ctx.moveTo(x + 7, y); ctx.arc(x, y, 7, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.font = "11px sans-serif";
    ctx.textAlign = x > AXIS + size / 2 ? "right" : "left";
    const label = `(${shown(state.cross.x1)}, ${shown(state.cross.x2)})`, tx = x + (x > AXIS + size / 2 ? -10 : 10);
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#fff";
    ctx.strokeText(label, tx, y - 10);
    ctx.fillStyle = "#111";
    ctx.fillText(label, tx, y - 10);
    ctx.restore();
  }

  // The network's output at (x1, x2), read off the map as drawn.
  function outputAt(x1, x2) {
    const { map, extent: e } = state;
    if (!map) return null;
    const r = map.shape[1], cell = (u) => Math.max(0, Math.min(r - 1, Math.floor(u * r)));
    const byte = map[state.mapNeuron * r * r + cell((e - x2) / (2 * e)) * r + cell((x1 + e) / (2 * e))];
    return map.low + byte * map.scale;
  }

  function sayWhere() {
    const { x1, x2 } = state.cross, v = outputAt(x1, x2);
    const side = v === null || state.problem === "regression" ? ""
      : normaliser(state.activation)(v) > 0 ? ", the orange side" : ", the blue side";
    said.textContent = `x₁ ${shown(x1)}, x₂ ${shown(x2)}: ` + (v === null ? "no output yet" : `output ${v.toFixed(2)}${side}`);
  }

  function showCross(cross) {
    state.cross = cross;
    if (cross) { state.at = [cross.x1, cross.x2]; sayWhere(); }
    state.pointsDirty = true;
    scheduler.request();
  }

  function onKey(event) {
    if (state.note || event.ctrlKey || event.metaKey || event.altKey) return;
    const e = state.extent, [x1, x2] = state.at;
    const arrow = ARROWS[event.key];
    if (arrow) {
      const step = (event.shiftKey ? 4 : 1) * e / STEPS, clamp = (v) => Math.max(-e, Math.min(e, +v.toFixed(6)));
      showCross({ x1: clamp(x1 + arrow[0] * step), x2: clamp(x2 + arrow[1] * step) });
    } else if (event.key === "Home") {
      showCross({ x1: 0, x2: 0 });
    } else if (event.key === "Enter") {
      if (!state.cross) { showCross({ x1, x2 }); return; }
      state.adding = state.points.train.length;
      onClick({ x1, x2, shiftKey: event.shiftKey });
    } else {
      return;
    }
    event.preventDefault();
  }

  // The points after Enter asked for one: say what was added (the page may have refused it).
  function sayAdded() {
    const { train } = state.points, asked = state.adding;
    state.adding = null;
    if (asked === null || train.length <= asked) return;
    const [x1, x2, label] = train[train.length - 1];
    const what = state.problem === "regression" ? `a point of value ${shown(label)}` : `a class ${label > 0 ? 1 : 0} point`;
    said.textContent = `Added ${what} at x₁ ${shown(x1)}, x₂ ${shown(x2)}: ${train.length} training points`;
  }

  const onFocus = () => { if (pointCanvas.matches(":focus-visible") && !state.note) showCross({ x1: state.at[0], x2: state.at[1] }); };
  const onBlur = () => { if (state.cross) showCross(null); };

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
  pointCanvas.addEventListener("keydown", onKey);
  pointCanvas.addEventListener("focus", onFocus);
  pointCanvas.addEventListener("blur", onBlur);
  scheduler.request();

  return {
    update(changes) {
      if ("map" in changes || "activation" in changes || "discretize" in changes || "mapNeuron" in changes) state.mapDirty = true;
      if (["points", "showTest", "problem", "extent", "note"].some((k) => k in changes)) state.pointsDirty = true;
      Object.assign(state, changes);
      if ("points" in changes) sayAdded();
      note.hidden = !state.note;
      note.textContent = state.note ?? "";
      scheduler.request();
    },
    destroy() {
      scheduler.cancel();
      pointCanvas.removeEventListener("click", onPointer);
      pointCanvas.removeEventListener("keydown", onKey);
      pointCanvas.removeEventListener("focus", onFocus);
      pointCanvas.removeEventListener("blur", onBlur);
      element.replaceChildren();
    },
  };
}
