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

// A canvas sized to its element in CSS pixels, sharp on high-DPI screens.
export function fitCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}
