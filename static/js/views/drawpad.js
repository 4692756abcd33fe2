// A square pad to draw a digit on with a round pen: mouse, touch and stylus through Pointer
// Events. The drawing is kept as strokes (lists of points in pad units, 0..size), so Undo removes
// the last stroke and the picture is redrawn from the strokes at whatever size the pad is shown
// (it fills `element`, which may be 280 px on a desktop or the width of a phone).
// One pointer draws at a time: a second finger is ignored, the page does not scroll or zoom under
// the pad (touch-action: none), and the coalesced events of a move (all the points the device
// reported between two frames) go into the stroke, so a fast finger or pen draws a smooth line.
// createDrawpad(element, {size, penWidth, ink, label, onChange(pad)})
//   -> {update({disabled}), clear(), undo(), get empty(), get drawing(), get extent(), grey(side), destroy()}
//   extent: the longer side of the ink's bounding box, pen included, in pad units (0 when empty)
import { fitCanvas, frameScheduler } from "../frame.js";

export function createDrawpad(element, options = {}) {
  const { size = 280, penWidth = 20, ink = "#111", onChange = () => {} } = options;
  const { label = "Drawing pad: draw a digit with the mouse, a finger or a pen" } = options;
  const canvas = document.createElement("canvas");
  canvas.className = "drawpad-canvas";
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  canvas.style.touchAction = "none";
  element.append(canvas);

  const strokes = []; // each a list of [x, y]
  let activePointer = null;
  let disabled = false;

  // The strokes on a transparent canvas, so the alpha channel is the ink.
  function paint(context, scale = 1) {
    context.save();
    context.scale(scale, scale);
    context.lineWidth = penWidth;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = context.fillStyle = ink;
    for (const points of strokes) {
      if (points.length === 1) {
        context.beginPath();
        context.arc(points[0][0], points[0][1], penWidth / 2, 0, 2 * Math.PI);
        context.fill();
        continue;
      }
      context.beginPath();
      context.moveTo(points[0][0], points[0][1]);
      for (let i = 1; i < points.length; i++) context.lineTo(points[i][0], points[i][1]);
      context.stroke();
    }
    context.restore();
  }

  function draw() {
    const side = element.clientWidth || size;   // CSS pixels
    paint(fitCanvas(canvas, side, side), side / size);
    const described = strokes.length ? `${strokes.length} stroke${strokes.length === 1 ? "" : "s"} drawn` : "empty";
    if (canvas.dataset.described !== described) {   // the text alternative follows the drawing
      canvas.dataset.described = described;
      canvas.setAttribute("aria-label", `${label} (${described})`);
    }
  }
  const scheduler = frameScheduler(draw);
  const resize = new ResizeObserver(() => scheduler.request());
  resize.observe(element);

  function position(event) {
    const rect = canvas.getBoundingClientRect();
    return [
      Math.min(Math.max((event.clientX - rect.left) * (size / rect.width), 0), size),
      Math.min(Math.max((event.clientY - rect.top) * (size / rect.height), 0), size),
    ];
  }

  function onDown(event) {
    if (disabled || activePointer !== null || event.button > 0 || !event.isPrimary) return;
    activePointer = event.pointerId;
    canvas.setPointerCapture(event.pointerId);
    strokes.push([position(event)]);
    event.preventDefault();
    scheduler.request();
    onChange(api);
  }

  function onMove(event) {
    if (event.pointerId !== activePointer) return;
    const points = strokes[strokes.length - 1];
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) points.push(position(e));
    scheduler.request();
    onChange(api);
  }

  function onUp(event) {
    if (event.pointerId !== activePointer) return;
    activePointer = null;
    if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
    onChange(api);
  }

  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);

  const api = {
    update(state) {
      disabled = Boolean(state.disabled);
      canvas.classList.toggle("disabled", disabled);
    },
    clear() {
      strokes.length = 0;
      activePointer = null;
      scheduler.request();
      onChange(api);
    },
    undo() {
      strokes.pop();
      activePointer = null;
      scheduler.request();
      onChange(api);
    },
    get empty() { return strokes.length === 0; },
    get drawing() { return activePointer !== null; },
    get extent() {
      if (!strokes.length) return 0;
      let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
      for (const points of strokes) {
        for (const [x, y] of points) {
          left = Math.min(left, x); right = Math.max(right, x);
          top = Math.min(top, y); bottom = Math.max(bottom, y);
        }
      }
      return Math.max(right - left, bottom - top) + penWidth;
    },
    // The drawing as grey levels at `side`×`side` pixels, 255 = ink: {width, height, pixels}.
    grey(side = size) {
      const off = document.createElement("canvas");
      off.width = off.height = side;
      const context = off.getContext("2d", { willReadFrequently: true });
      paint(context, side / size);
      const rgba = context.getImageData(0, 0, side, side).data;
      const pixels = new Uint8Array(side * side);
      for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[4 * i + 3];
      return { width: side, height: side, pixels };
    },
    destroy() {
      scheduler.cancel();
      resize.disconnect();
      canvas.removeEventListener("pointerdown", onDown);
      canvas.removeEventListener("pointermove", onMove);
      canvas.removeEventListener("pointerup", onUp);
      canvas.removeEventListener("pointercancel", onUp);
      canvas.remove();
    },
  };
  scheduler.request();
  return api;
}
