// The whole run configuration in the URL query, so a link restores it.
// Keys are the protocol's config field names (docs/protocol.md); lists are comma-joined;
// `points` is "x1:x2:label" items joined by ";". How a value is read back is the field's type
// in the schema (schema.js): numbers, lists of widths, lists of names.

export function encodeConfig(config) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue;
    if (key === "points") params.set(key, value.map((p) => p.map((v) => +(+v).toFixed(3)).join(":")).join(";"));
    else if (Array.isArray(value)) params.set(key, value.join(","));
    else params.set(key, String(value));
  }
  return params.toString();
}

// The config a query holds; `schema` says each field's type (without it every value is text).
export function decodeConfig(search = location.search, schema = null) {
  const params = new URLSearchParams(search);
  const config = {};
  for (const [key, value] of params) {
    const type = key === "steps_per_second" ? "number" : schema?.fields[key]?.type;
    if (type === "points") config[key] = value ? value.split(";").map((p) => p.split(":").map(Number)) : [];
    else if (type === "layers") config[key] = value ? value.split(",").map((s) => (s.trim() === "" ? NaN : Number(s))) : [];
    else if (type === "subset") config[key] = value ? value.split(",") : [];
    else if (type === "number" || type === "integer") config[key] = value.trim() === "" ? NaN : Number(value);
    else config[key] = value;
  }
  return config;
}
