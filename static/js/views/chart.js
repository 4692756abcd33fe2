// A line chart of several series against the step count, with the values under the mouse.
// createChart(element, {series: [{key, label, color}], height, yMin, yMax, format})
//   -> {update({x, values: {key: number|null}}), clear(), destroy()}
import { fitCanvas, frameScheduler } from "../frame.js";

const MAX_POINTS = 1000;

export function createChart(element, options) {
  const { series, height = 120, yMin = null, yMax = null, format = (v) => v.toFixed(3) } = options;
  const canvas = document.createElement("canvas");
  const tip = document.createElement("div");
  tip.className = "chart-tip";
  element.classList.add("chart");
  element.append(canvas, tip);
  const points = []; // {x, values}
  let hoverX = null;
  const margin = { left: 44, right: 8, top: 8, bottom: 18 };

  function bounds() {
    let lo = Infinity, hi = -Infinity;
    for (const p of points) for (const s of series) {
      const v = p.values[s.key];
      if (v !== null && v !== undefined && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    if (lo > hi) { lo = 0; hi = 1; } // no finite values yet
    if (yMin !== null) lo = yMin;
    if (yMax !== null) hi = yMax;
    if (!(hi > lo)) { hi = lo + 1; }
    return { lo, hi };
  }

  function draw() {
    const width = element.clientWidth || 300;
    const ctx = fitCanvas(canvas, width, height);
    ctx.clearRect(0, 0, width, height);
    const w = width - margin.left - margin.right, h = height - margin.top - margin.bottom;
    const { lo, hi } = bounds();
    const x0 = points.length ? points[0].x : 0, x1 = points.length ? points[points.length - 1].x : 1;
    const sx = (x) => margin.left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0) * w;
    const sy = (y) => margin.top + (1 - (y - lo) / (hi - lo)) * h;
    ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#666"; ctx.font = "10px sans-serif"; ctx.lineWidth = 1;
    ctx.strokeRect(margin.left, margin.top, w, h);
    ctx.textAlign = "right";
    ctx.fillText(format(hi), margin.left - 4, margin.top + 8);
    ctx.fillText(format(lo), margin.left - 4, margin.top + h);
    ctx.textAlign = "left";
    ctx.fillText(`step ${x1}`, margin.left, height - 4);
    for (const s of series) {
      ctx.strokeStyle = s.color; ctx.lineWidth = 1.5; ctx.beginPath();
      let started = false;
      for (const p of points) {
        const v = p.values[s.key];
        if (v === null || v === undefined || !Number.isFinite(v)) { started = false; continue; }
        const X = sx(p.x), Y = sy(Math.min(Math.max(v, lo), hi));
        if (started) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
        started = true;
      }
      ctx.stroke();
    }
    if (hoverX !== null && points.length) {
      const target = x0 + ((hoverX - margin.left) / w) * (x1 - x0);
      let best = points[0];
      for (const p of points) if (Math.abs(p.x - target) < Math.abs(best.x - target)) best = p;
      ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(sx(best.x), margin.top); ctx.lineTo(sx(best.x), margin.top + h); ctx.stroke();
      tip.hidden = false;
      tip.textContent = `step ${best.x}: ` + series.map((s) => {
        const v = best.values[s.key];
        return `${s.label} ${v === null || v === undefined ? "–" : format(v)}`;
      }).join(", ");
    } else {
      tip.hidden = true;
    }
  }

  const scheduler = frameScheduler(draw);
  const onMove = (event) => { hoverX = event.offsetX; scheduler.request(); };
  const onLeave = () => { hoverX = null; scheduler.request(); };
  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("mouseleave", onLeave);
  scheduler.request();

  return {
    update({ x, values }) {
      if (points.length && x < points[points.length - 1].x) points.length = 0; // a reset
      points.push({ x, values });
      if (points.length > MAX_POINTS) {
        // keep the first point and every other one after it, so the whole run stays in view
        let j = 1;
        for (let i = 2; i < points.length; i += 2) points[j++] = points[i];
        points[j++] = points[points.length - 1];
        points.length = j;
      }
      scheduler.request();
    },
    // The most recent values, e.g. for a read-out next to the chart.
    get last() { return points.length ? points[points.length - 1] : null; },
    clear() { points.length = 0; scheduler.request(); },
    destroy() {
      scheduler.cancel();
      canvas.removeEventListener("mousemove", onMove);
      canvas.removeEventListener("mouseleave", onLeave);
      canvas.remove(); tip.remove();
    },
  };
}
