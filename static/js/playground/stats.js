// The page's own speed, for tests and benchmarks (window.nnplayStats): per incoming message type
// (snapshot, metrics, configured, ...), the time its handler took; drawing happens later, in
// animation frames, and shows in fps. fpsHistory keeps the last minute of (fps, running) pairs
// so a test can read what the page held while training.

export function createStats() {
  return { handlers: {}, fps: 0, fpsHistory: [] };
}

export function timed(stats, type, fn) {
  const t0 = performance.now();
  try { fn(); } finally {
    const dt = performance.now() - t0;
    const stat = stats.handlers[type] ??= { count: 0, totalMs: 0, maxMs: 0, meanMs: 0, over4ms: 0 };
    stat.count += 1;
    if (dt > 4) stat.over4ms += 1;
    stat.totalMs += dt;
    stat.maxMs = Math.max(stat.maxMs, dt);
    stat.meanMs = stat.totalMs / stat.count;
  }
}

// Frames per second from requestAnimationFrame timestamps, once a second.
export function startFpsMeter(stats, isRunning) {
  let windowStart = performance.now(), frames = 0;
  const tick = (now) => {
    frames += 1;
    if (now - windowStart >= 1000) {
      stats.fps = (frames * 1000) / (now - windowStart);
      stats.fpsHistory.push({ fps: +stats.fps.toFixed(1), running: isRunning() });
      if (stats.fpsHistory.length > 60) stats.fpsHistory.shift();
      frames = 0;
      windowStart = now;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
