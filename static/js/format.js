// Numbers as the pages show them. No Intl: its first use costs tens of milliseconds.

// 12345 -> "12,345"; 0.00001 -> "0.00001"
export function shown(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? thousands(n) : String(+n.toPrecision(6));
}

export function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// a loss: "0.123", "4.56e-4", or `missing` for null (the server sends null for ∞ and NaN)
export function formatLoss(v, missing = "–") {
  return v === null || v === undefined ? missing : v < 0.001 && v > 0 ? v.toExponential(2) : v.toFixed(3);
}

export function formatPercent(v, digits = 1) {
  return v === null || v === undefined ? "–" : `${(v * 100).toFixed(digits)}%`;
}

export function formatCount(n) {
  return n >= 1e4 ? `${Math.round(n / 1000)}k` : String(Math.round(n));
}

export function formatBytes(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;
}

export function formatSeconds(s) {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// "1 epoch", "2 epochs"
export function plural(n, word) {
  return `${thousands(n)} ${word}${n === 1 ? "" : "s"}`;
}
