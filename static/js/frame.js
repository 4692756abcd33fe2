// Draw at most once per animation frame, from whatever state is newest at that moment.
export function frameScheduler(draw) {
  let pending = 0;
  return {
    request() {
      if (!pending) pending = requestAnimationFrame(() => { pending = 0; draw(); });
    },
    cancel() { cancelAnimationFrame(pending); pending = 0; },
  };
}

// A canvas sized to its element in CSS pixels, sharp on high-DPI screens, and cleared.
// The bitmap is only reallocated when the size really changes.
export function fitCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round(width * ratio), h = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  } else {
    ctx.reset(); // the same fresh state a resize gives: cleared, default styles
  }
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}
