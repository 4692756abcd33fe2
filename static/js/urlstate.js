// The whole run configuration in the URL query, so a link restores it.
// Keys are the protocol's config field names (docs/protocol.md); lists are comma-joined;
// `points` is "x1:x2:label" items joined by ";".
const LISTS = new Set(["hidden", "features"]);
const NUMBERS = new Set(["n_samples", "noise", "train_ratio", "learning_rate", "batch_size",
  "regularization_rate", "seed", "mnist_train_size", "steps_per_second"]);

export function encodeConfig(config) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue;
    if (key === "points") params.set(key, value.map((p) => p.map((v) => +(+v).toFixed(3)).join(":")).join(";"));
    else if (LISTS.has(key)) params.set(key, value.join(","));
    else params.set(key, String(value));
  }
  return params.toString();
}

export function decodeConfig(search = location.search) {
  const params = new URLSearchParams(search);
  const config = {};
  for (const [key, value] of params) {
    if (key === "points") config.points = value ? value.split(";").map((p) => p.split(":").map(Number)) : [];
    else if (key === "hidden") config.hidden = value ? value.split(",").map(Number) : [];
    else if (LISTS.has(key)) config[key] = value ? value.split(",") : [];
    else if (NUMBERS.has(key)) config[key] = Number(value);
    else config[key] = value;
  }
  return config;
}
