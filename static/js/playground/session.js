// The Playground's side of its training session: what it sends (configure, set, speed, ...),
// which config fields it sends, and the address that keeps the run (urlstate.js).
import { encodeConfig } from "../urlstate.js";
import { consistentLoss } from "../schema.js";

const URL_DELAY = 150;            // ms

// The config fields a link may carry and the Playground sends: every field of the schema except
// the one the data set implies and the one of the Digits page.
export function configFields(schema) {
  return Object.keys(schema.fields).filter((k) => !schema.fields[k].implied_by && k !== "mnist_train_size");
}

export function pick(state, config) {
  return Object.fromEntries(configFields(state.schema).filter((k) => k in config).map((k) => [k, config[k]]));
}

// Send a command while the server is there; nothing is queued for a server that is not.
export function send(state, command, fields = {}) {
  const id = state.socket.send(command, fields);
  if (id !== null) state.pending.set(id, { command, ...fields });
  return id;
}

export function configure(state, patch) {
  state.resumeAfterConfigure = state.running;
  state.asked = pick(state, { ...state.config, ...patch });
  send(state, "configure", { config: state.asked });
}

export function dataset(state, name = state.config.dataset) {
  return state.schema.fields.dataset.choices.find((d) => d.value === name) ?? {};
}

// A control changed `field` to `value`: live fields go to the running trainer with `set`, the
// others rebuild the network with `configure` (with the output and loss kept consistent).
export function changeField(state, field, value) {
  if (state.schema.live.includes(field) && state.accepted) {
    send(state, "set", { [field]: value });
    return;
  }
  const patch = { [field]: value };
  const outputs = state.schema.fields.output.choices;
  if (field === "dataset") {
    patch.points = [];
    const problem = dataset(state, value).problem;
    const output = outputs.find((o) => o.value === state.config.output);
    if (output && !output.problems.includes(problem)) {
      patch.output = outputs.find((o) => o.problems.includes(problem) && o.losses.includes(state.config.loss))?.value
        ?? outputs.find((o) => o.problems.includes(problem)).value;
    }
  }
  const output = patch.output ?? state.config.output;
  if (field === "output" || patch.output) patch.loss = consistentLoss(state.schema, output, state.config.loss);
  configure(state, patch);
}

// steps per second, or null for flat out
export function setSpeed(state, speed) {
  state.speed = speed;
  showSpeed(state);
  send(state, "speed", { steps_per_second: speed });
  writeUrl(state);
}

export function showSpeed(state) {
  const select = state.$("#speed");
  const value = String(state.speed ?? 0);
  if (![...select.options].some((o) => o.value === value)) select.append(new Option(`${value} steps/s`, value));
  select.value = value;
}

// The URL follows the configuration, written at most every URL_DELAY ms: replaceState is slow
// (milliseconds) and browsers throttle pages that call it too often.
export function writeUrl(state) {
  if (state.urlTimer) return;
  state.urlTimer = setTimeout(() => {
    state.urlTimer = 0;
    const query = encodeConfig({ ...state.config, steps_per_second: state.speed ?? 0 });
    history.replaceState(null, "", `${location.pathname}?${query}`);
    state.$("#share").href = location.href;
  }, URL_DELAY);
}

export function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
