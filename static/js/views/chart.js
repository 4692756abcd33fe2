// Line charts against the step count, drawn by uPlot (static/vendor/uplot, loaded by the page as
// the global `uPlot`): axes with ticks, a legend that reads out the values under the cursor, an
// optional log scale, and lines clipped to the plot.
// createChart(element, {series: [{key, label, color, measured}], title, height, yMin, yMax, format, log})
//   -> {update({x, values: {key: number|null}, measuredAt}), clear(), destroy(), last}
// A `measured` series (test figures) gets a dot where a value was measured and a straight line
// between dots: null means "not measured at this step", never "zero". An x below the last one
// (the trainer rolled back after a divergence) drops the points after it; clear() starts over.
import { frameScheduler } from "../frame.js";
import { thousands } from "../format.js";

const MAX_POINTS = 1000;

export function createChart(element, options) {
  const { series, title = "Chart", height = 120, yMin = null, yMax = null, format = (v) => v.toFixed(3), log = false } = options;
  const uPlot = globalThis.uPlot;
  element.classList.add("chart");
  const plotBox = document.createElement("div");
  element.append(plotBox);
  let logScale = false;
  if (log) element.prepend(logToggle());
  const xs = [];
  const ys = series.map(() => []);
  let plot = null;
  let width = 0;

  function logToggle() {
    const box = Object.assign(document.createElement("input"), { type: "checkbox" });
    box.addEventListener("change", () => { logScale = box.checked; rebuild(); });
    const label = Object.assign(document.createElement("label"), { className: "chart-log", title: "Show the loss on a logarithmic scale" });
    label.append(box, " log scale");
    return label;
  }

  function yRange(u, lo, hi) {
    if (yMin !== null && yMax !== null) return [yMin, yMax];
    if (lo === null || hi === null) return logScale ? [0.001, 1] : [0, 1];
    if (logScale) return uPlot.rangeLog(lo, hi, 10, true);
    const [a, b] = uPlot.rangeNum(lo, hi, 0.1, true);
    return [yMin ?? Math.max(a, lo >= 0 ? 0 : a), yMax ?? b];
  }

  function build() {
    width = Math.max(element.clientWidth, 200);
    plot = new uPlot({
      width, height, legend: { live: true },
      cursor: { y: false, points: { size: 6 } },
      scales: { x: { time: false }, y: { distr: logScale ? 3 : 1, log: 10, range: yRange } },
      axes: [
        { size: 24, font: "10px system-ui, sans-serif", values: (u, ticks) => ticks.map((t) => (t === null ? "" : thousands(t))), grid: { stroke: "#eee" }, ticks: { stroke: "#ccc" } },
        { size: labelWidth, font: "10px system-ui, sans-serif", values: (u, ticks) => ticks.map((t) => (t === null ? "" : format(t))),   // log axes skip labels
          grid: { stroke: "#eee" }, ticks: { stroke: "#ccc" } },
      ],
      series: [
        { label: "step", value: (u, v, k, i) => readout(0, i, thousands) },
        ...series.map((s, k) => ({
          label: s.label, stroke: s.color, width: 1.5, spanGaps: Boolean(s.measured),
          points: { size: 4, fill: s.color },   // dots where they are sparse enough to see
          value: (u, v, j, i) => readout(k + 1, i, format),
        })),
      ],
    }, data(), plotBox);
  }

  // The legend reads the point under the cursor, else the newest value of each series.
  function readout(column, i, show) {
    const values = column === 0 ? xs : ys[column - 1];
    let j = i ?? values.length - 1;
    if (i === null || i === undefined) while (j > 0 && values[j] === null) j -= 1;
    const v = values[j];
    return v === null || v === undefined ? "–" : show(v);
  }

  // room for the longest tick label of the y axis (10 px font: about 6 px a character)
  function labelWidth(u, values) {
    const longest = Math.max(4, ...(values ?? []).map((v) => String(v ?? "").length));
    return 16 + 7 * longest;
  }

  function data() {
    return [xs, ...ys.map((y) => (logScale ? y.map((v) => (v > 0 ? v : null)) : y))];
  }

  function rebuild() {
    plot?.destroy();
    plot = null;
    scheduler.request();
  }

  function draw() {
    if (!plot) build();
    else plot.setData(data());
    element.dataset.points = String(xs.length);   // for tests and people reading the page's markup
    element.dataset.scale = logScale ? "log" : "linear";
    // the canvas's text alternative: the newest values, as the legend reads them
    const canvas = plot.ctx.canvas;
    const words = xs.length ? `${title} against the training step; at step ${readout(0, null, thousands)}: `
      + series.map((s, k) => `${s.label} ${readout(k + 1, null, format)}`).join(", ") : `${title} against the training step: no steps yet`;
    if (canvas.getAttribute("aria-label") !== words) { canvas.setAttribute("role", "img"); canvas.setAttribute("aria-label", words); }
    series.forEach((s, k) => {
      if (s.measured) element.dataset[`measuredAt_${s.key}`] = xs.filter((_, i) => ys[k][i] !== null).join(",");
    });
  }
  const scheduler = frameScheduler(draw);
  const resize = new ResizeObserver(() => {
    if (plot && Math.abs(element.clientWidth - width) > 1) { width = Math.max(element.clientWidth, 200); plot.setSize({ width, height }); }
  });
  resize.observe(element);
  scheduler.request();

  // keep the first point, every other one after it, the last, and every measured one, so the
  // whole run stays in view
  function thin() {
    const keep = xs.map((_, i) => i % 2 === 0 || i === xs.length - 1
      || series.some((s, k) => s.measured && ys[k][i] !== null));
    const kept = (a) => a.filter((_, i) => keep[i]);
    for (const a of [xs, ...ys]) a.splice(0, a.length, ...kept(a));
  }

  const value = (v) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);
  let lastMeasured = null;

  function add(x, values) {
    while (xs.length && xs[xs.length - 1] > x) { xs.pop(); for (const y of ys) y.pop(); }
    if (xs[xs.length - 1] === x) {     // the same step again (after a pause, say): fill in what is new
      series.forEach((s, k) => { ys[k][xs.length - 1] = value(values[s.key]) ?? ys[k][xs.length - 1]; });
      return;
    }
    xs.push(x);
    series.forEach((s, k) => ys[k].push(value(values[s.key])));
    if (xs.length > MAX_POINTS) thin();
  }

  return {
    // values of the `measured` series belong to step `measuredAt` (default x) and are drawn only
    // the first time that step is given: a later message repeating them adds no dot.
    update({ x, values, measuredAt = x }) {
      const fresh = measuredAt !== null && measuredAt !== undefined && measuredAt !== lastMeasured;
      if (fresh) lastMeasured = measuredAt;
      const measured = {}, plain = {};
      for (const s of series) (s.measured ? measured : plain)[s.key] = values[s.key];
      if (fresh && measuredAt < x) {
        if (!xs.length || measuredAt >= xs[xs.length - 1]) add(measuredAt, measured);
        add(x, plain);
      } else {
        add(x, fresh ? { ...plain, ...measured } : plain);
      }
      scheduler.request();
    },
    // The most recent values, e.g. for a read-out next to the chart.
    get last() {
      return xs.length ? { x: xs[xs.length - 1], values: Object.fromEntries(series.map((s, k) => [s.key, ys[k][xs.length - 1]])) } : null;
    },
    clear() { xs.length = 0; for (const y of ys) y.length = 0; lastMeasured = null; scheduler.request(); },
    destroy() { scheduler.cancel(); resize.disconnect(); plot?.destroy(); element.replaceChildren(); },
  };
}
