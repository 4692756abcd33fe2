// The config schema the server publishes (app/schema.py, docs/protocol.md "schema"): every
// field's choices, default, range and limit. The page reads it from the element its template
// wrote it into, and takes the newer one from every `hello`. Nothing here knows a range or a choice of
// its own: values are checked, and the server's errors put into words, from the schema alone.
import { shown } from "./format.js";

export function readSchema(doc = document) {
  return JSON.parse(doc.getElementById("nnplay-schema").dataset.json);
}

// "from 1 to 65,536", "more than 0 and at most 100"
export function rangeText(field) {
  return field.min_open ? `more than ${shown(field.min)} and at most ${shown(field.max)}`
    : `from ${shown(field.min)} to ${shown(field.max)}`;
}

function choiceLabel(field, value) {
  return field.choices?.find((c) => c.value === value)?.label ?? String(value);
}

function list(words) {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

// A problem with one field's value, in words, or null when the value is allowed.
export function problem(schema, name, value) {
  const field = schema.fields[name];
  if (!field) return null;
  const label = field.label;
  switch (field.type) {
    case "integer":
    case "number": {
      const ok = typeof value === "number" && Number.isFinite(value)
        && (field.type === "number" || Number.isInteger(value))
        && (field.min_open ? value > field.min : value >= field.min) && value <= field.max;
      if (ok) return null;
      const kind = field.type === "integer" ? "a whole number" : "a number";
      const given = typeof value === "number" && Number.isNaN(value) ? "empty" : String(value);
      return `${label} must be ${kind} ${rangeText(field)}${value === undefined ? "" : `, not ${given}`}.`;
    }
    case "choice":
      if (field.choices.some((c) => c.value === value)) return null;
      return `${label} “${value}” is not one of the choices: ${list(field.choices.map((c) => c.label))}.`;
    case "subset":
      if (!Array.isArray(value) || value.length < field.min_items) return `Choose at least ${field.min_items === 1 ? "one" : field.min_items} of the ${label.toLowerCase()}.`;
      return value.every((v) => field.choices.some((c) => c.value === v)) ? null
        : `${label}: choose from ${list(field.choices.map((c) => c.label))}.`;
    case "layers": return layersProblem(field, value);
    default: return null;
  }
}

function layersProblem(field, hidden) {
  if (!Array.isArray(hidden)) return `${field.label}: give the widths of the layers.`;
  if (hidden.length > field.max_layers) {
    return `This server allows at most ${field.max_layers} hidden layer${field.max_layers === 1 ? "" : "s"}; this network has ${hidden.length}.`;
  }
  const wide = hidden.find((n) => n > field.max_width);
  if (wide !== undefined) return `This server allows at most ${shown(field.max_width)} neurons in a layer, not ${shown(wide)}.`;
  const bad = hidden.find((n) => !Number.isInteger(n) || n < field.min_width);
  if (bad !== undefined) return `A hidden layer needs at least ${field.min_width} neuron${field.min_width === 1 ? "" : "s"}, not ${shown(bad)}.`;
  return null;
}

// The user's text for hidden layers, "128, 64", read in one place: {hidden} or {problem} quoting
// what was typed and showing what a valid value looks like.
export function parseLayers(schema, text, { allowEmpty = false } = {}) {
  const field = schema.fields.hidden;
  const example = "numbers separated by commas, like 128, 64";
  const trimmed = text.trim();
  if (!trimmed) {
    return allowEmpty ? { hidden: [] } : { problem: `${field.label} is empty: give the width of each layer as ${example}.` };
  }
  const parts = trimmed.split(",").map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s))) {
    return { problem: `${field.label} “${text.trim()}” is not valid: give ${example}.` };
  }
  const hidden = parts.map(Number);
  const rule = layersProblem(field, hidden);
  return rule ? { problem: `${rule} (${field.label} “${trimmed}”.)` } : { hidden };
}

// The loss that goes with an output: the one already chosen when it fits, else the usual one.
export function consistentLoss(schema, output, loss) {
  const losses = schema.fields.output.choices.find((c) => c.value === output)?.losses ?? [];
  return losses.includes(loss) ? loss : losses[0] ?? loss;
}

export function label(schema, name, value) {
  return choiceLabel(schema.fields[name] ?? {}, value);
}

// A server error ({code, message, field}) in the user's words. `sent` is the config or command
// the page sent, when it knows it: its own check names the value the user gave.
export function explain(schema, error, sent = {}) {
  const { code, field } = error;
  if (field && schema.fields[field]) {
    const own = field in sent ? problem(schema, field, sent[field]) : null;
    if (own) return own;
    const f = schema.fields[field];
    if (f.type === "choice" && code === "bad_value") return `${f.label}: ${serverReason(error.message)}`;
  }
  if (field === "idle_timeout_s") return "The server closed this session after a long time without activity. Reload the page to start again.";
  if (code === "limit" && field === null && /sessions/.test(error.message)) {
    return `The server is busy: it already runs as many training sessions as it allows (${schema.limits?.max_sessions ?? "its limit"}). Try again in a little while.`;
  }
  if (code === "mnist_missing") return "The MNIST digits are not on this server yet.";
  return serverReason(error.message ?? `error ${code}`);
}

// The part of a server message after "name=value is invalid: " — the rule, without internal names.
function serverReason(message) {
  const rule = message.replace(/^[a-z_]+=\S+ is (invalid|out of range): /, "");
  return rule.charAt(0).toUpperCase() + rule.slice(1).replace(/_/g, " ");
}
