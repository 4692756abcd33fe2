// The Playground page: wires the controls and the views to one training session (/ws/session).
// All page state lives in one object made by initPlayground; the functions below receive it.
import { connect, getJSON } from "./socket.js";
import { decodeConfig, encodeConfig } from "./urlstate.js";
import { createChart } from "./views/chart.js";
import { createControls } from "./views/controls.js";
import { createHeatmap } from "./views/heatmap.js";
import { createNetwork } from "./views/network.js";

// The config fields a link may carry and the server accepts (docs/protocol.md; `problem` is implied).
const CONFIG_FIELDS = ["dataset", "n_samples", "noise", "train_ratio", "features", "points", "hidden",
  "activation", "output", "loss", "init", "optimizer", "learning_rate", "batch_size", "regularization",
  "regularization_rate", "seed"];
const LIVE_FIELDS = new Set(["learning_rate", "batch_size", "regularization", "regularization_rate"]);
const SMALL_SETS = new Set(["xor_table", "one_neuron"]);
const REGRESSION_SETS = new Set(["plane", "multigauss"]);
const DEFAULT_SPEED = 150;        // steps per second: XOR visibly converges over several seconds
const MATH_MAX_WIDTH = 16;        // the math view is readable up to this many neurons per layer
// stuck: the loss fell by less than `gain` over the window; the hint then stays until the loss
// is `clearGain` below where it was stuck (or solved), so its button never flickers away.
const PLATEAU = { minSteps: 500, epochs: 50, gain: 0.01, clearGain: 0.2, solvedLoss: 0.02 };
const NEW_LAYER_WIDTH = 2;
const URL_DELAY = 150;            // ms

export function initPlayground(root) {
  const query = decodeConfig(location.search);
  const state = {
    root,
    config: pick(query),                 // the configuration shown; the server's once configured
    accepted: false,                     // the server has accepted a configuration
    dataset: null,                       // configured.dataset
    network: null,                       // configured.network: {sizes, activations, loss}
    points: { train: [], test: [] },
    running: false,
    resumeAfterConfigure: false,
    speed: "steps_per_second" in query ? query.steps_per_second || null : DEFAULT_SPEED,
    pending: new Map(),                  // message id -> {command, ...what was asked}
    plateau: { bestLoss: Infinity, bestStep: 0, shown: false },
    presets: [],
    stats: createStats(),
    urlTimer: 0,
  };
  const $ = (selector) => root.querySelector(selector);
  state.$ = $;
  state.views = {
    controls: createControls(root, { onChange: (field, value) => changeField(state, field, value) }),
    network: createNetwork($("#network"), {
      onSetWeight: (layer, from, to, value) => send(state, "set_weight", { layer, from, to, value }),
      onSetBias: (layer, neuron, value) => send(state, "set_bias", { layer, neuron, value }),
      onResizeLayer: (layer, delta) => resizeLayer(state, layer, delta),
      layerLink: (layer) => mathLink(state, layer),
    }),
    heatmap: createHeatmap($("#heatmap"), { onClick: (p) => addPoint(state, p), size: 300 }),
    chart: createChart($("#loss-chart"), {
      height: 90, series: [
        { key: "test", label: "test", color: "#222" },
        { key: "train", label: "train", color: "#999" },
      ],
    }),
  };
  window.nnplayStats = state.stats;
  bindButtons(state);
  startFpsMeter(state);
  state.views.controls.update(state.config);
  showSpeed(state);
  state.socket = connect({
    onOpen: () => onOpen(state),
    onClose: () => setConnection(false),
    onMessage: (message) => timed(state.stats, message.type, () => onMessage(state, message)),
    onFrame: (frame) => timed(state.stats, frame.type, () => onFrame(state, frame)),
  });
  refreshModels(state);
  return state;
}

// -- talking to the server ----------------------------------------------------------------

function send(state, command, fields = {}) {
  const id = state.socket.send(command, fields);
  state.pending.set(id, { command, ...fields });
  return id;
}

function pick(config) {
  return Object.fromEntries(CONFIG_FIELDS.filter((k) => k in config).map((k) => [k, config[k]]));
}

function onOpen(state) {
  setConnection(true);
  configure(state, {});
  send(state, "speed", { steps_per_second: state.speed });
}

function configure(state, patch) {
  state.resumeAfterConfigure = state.running;
  send(state, "configure", { config: pick({ ...state.config, ...patch }) });
}

function onMessage(state, m) {
  const asked = m.id !== undefined ? state.pending.get(m.id) : undefined;
  if (asked && m.type !== "ack" && m.type !== "error") state.pending.delete(m.id);
  switch (m.type) {
    case "hello": onHello(state, m); break;
    case "configured": onConfigured(state, m); break;
    case "ack": state.pending.delete(m.id); onAck(state, m, asked ?? {}); break;
    case "metrics": onMetrics(state, m); break;
    case "error": state.pending.delete(m.id); onError(state, m, asked ?? {}); break;
    case "saved": showMessage(state, "model", "hint", `Saved the network as “${m.name}”.`); refreshModels(state); break;
    case "loaded": onLoaded(state, m); break;
    default: break;
  }
}

function onFrame(state, frame) {
  if (frame.type === "dataset") onDataset(state, frame);
  else if (frame.type === "snapshot") onSnapshot(state, frame);
}

function onHello(state, m) {
  const { max_layers: layers, max_width: width } = m.limits ?? {};
  if (layers) state.$("#add-layer").title = `Add a hidden layer (this server allows ${layers} of up to ${width} neurons)`;
  state.presets = normalisePresets(m.presets);
  const select = state.$("#preset");
  select.replaceChildren(new Option("—", ""), ...state.presets.map((p) => new Option(p.title, p.name)));
}

// hello.presets is {name: {title, steps_per_second, config}}; MNIST belongs to the digits page.
function normalisePresets(presets) {
  return Object.entries(presets ?? {})
    .map(([name, p]) => ({ name, title: p.title ?? name, config: p.config, speed: p.steps_per_second }))
    .filter((p) => p.config.dataset !== "mnist");
}

function onConfigured(state, m) {
  state.accepted = true;
  state.config = pick(m.config);
  state.network = m.network;
  state.dataset = m.dataset;
  const plane = m.dataset.extent !== null && m.dataset.extent !== undefined;
  if (!plane) state.points = { train: [], test: [] };
  const { controls, network, heatmap, chart } = state.views;
  controls.update(state.config);
  showAvailability(state);
  network.update({ structure: { sizes: m.network.sizes, activations: m.network.activations, inputNames: m.dataset.inputs } });
  heatmap.update({
    map: null, problem: m.dataset.problem, points: state.points,
    note: plane ? null : `The ${m.dataset.name} set has ${m.dataset.inputs.length} inputs: there is no plane to draw.`,
  });
  chart.clear();
  state.$("#problem").textContent = m.dataset.problem;
  state.$(".pg-acc").hidden = m.dataset.problem === "regression";
  state.$("#seed").textContent = state.config.seed;
  const hidden = state.config.hidden.length;
  state.$("#layer-count").textContent = `${hidden} hidden layer${hidden === 1 ? "" : "s"}`;
  resetPlateau(state);
  clearMessage(state, "diverged");
  clearMessage(state, "error");
  writeUrl(state);
  if (state.resumeAfterConfigure) send(state, "play");
  state.resumeAfterConfigure = false;
}

function onDataset(state, frame) {
  const { X_train, y_train, X_test, y_test } = frame.arrays;
  const rows = (X, y) => (X.shape[1] === 2 ? Array.from(y, (label, i) => [X[2 * i], X[2 * i + 1], label]) : []);
  state.points = { train: rows(X_train, y_train), test: rows(X_test, y_test) };
  state.views.heatmap.update({ points: state.points, extent: frame.extent ?? 6 });
}

function onSnapshot(state, frame) {
  const sizes = state.network?.sizes;
  if (!sizes || !fits(frame, sizes)) return;   // e.g. the last frame of the network before a configure
  const L = sizes.length - 1;
  state.views.network.update({ snapshot: frame });
  state.views.heatmap.update({
    map: frame.arrays[`maps${L}`] ?? null, mapNeuron: sizes[L] === 2 ? 1 : 0,
    activation: state.network.activations[L - 1], extent: frame.extent ?? 6,
  });
}

// Does a snapshot belong to a network of these layer sizes?
function fits(frame, sizes) {
  return sizes.every((n, l) => (l === 0 ? frame.arrays.maps0 ?? frame.arrays.W1 : frame.arrays[`b${l}`])?.shape[0] === n)
    && frame.arrays[`b${sizes.length}`] === undefined;
}

function onAck(state, m, asked) {
  if (m.state) setRunning(state, m.state.running);
  switch (asked.command) {
    case "set": {
      const { command, ...values } = asked;
      Object.assign(state.config, values);
      writeUrl(state);
      break;
    }
    case "reset":
      if (asked.seed !== undefined) state.config.seed = asked.seed;
      state.$("#seed").textContent = state.config.seed;
      state.views.chart.clear();
      resetPlateau(state);
      clearMessage(state, "diverged");
      writeUrl(state);
      break;
    case "add_point":   // the server follows with the whole data set in a `dataset` frame
      state.config.points = [...(state.config.points ?? []), m.point];
      writeUrl(state);
      break;
    default: break;
  }
}

function onMetrics(state, m) {
  const $ = state.$;
  $("#epoch").textContent = thousands(m.epoch);
  $("#step-count").textContent = thousands(m.step);
  $("#train-loss").textContent = formatLoss(m.train_loss, "∞");   // null: not a finite number
  $("#test-loss").textContent = formatLoss(m.test_loss, "∞");
  $("#train-acc").textContent = formatPercent(m.train_accuracy);
  $("#test-acc").textContent = formatPercent(m.test_accuracy);
  state.views.chart.update({ x: m.step, values: { train: m.train_loss, test: m.test_loss } });
  if (m.running !== undefined) setRunning(state, m.running);
  checkPlateau(state, m);
}

function onError(state, m, asked) {
  if (m.code === "diverged") {
    setRunning(state, false);
    showMessage(state, "diverged", "error",
      `Training diverged: a step made the loss infinite or NaN (learning rate ${state.config.learning_rate}). ` +
      "The run is paused and the weights are back at their last good values. " +
      "Hint: lower the learning rate (large rates overshoot, most of all with ReLU or linear units), then go on or reset.",
      [{ label: "Learning rate ÷ 10", onClick: () => changeField(state, "learning_rate", +(state.config.learning_rate / 10).toPrecision(3)) },
        { label: "Reset", onClick: () => send(state, "reset") }]);
    return;
  }
  if (m.code === "internal") setRunning(state, false);
  if (asked.command === "configure" && !state.accepted) {   // a bad link: start from the server's defaults
    showMessage(state, "link", "error", `The link's configuration was refused: ${m.message} The defaults are shown instead.`);
    state.config = {};
    configure(state, {});
    return;
  }
  showMessage(state, "error", "error", m.message ?? `error ${m.code}`);
  if (asked.command === "configure" || asked.command === "set") state.views.controls.update(state.config);
}

function onLoaded(state, m) {
  const { sizes, activations } = m.network;
  state.config = pick(m.config);
  state.network = m.network;
  setRunning(state, false);
  state.views.controls.update(state.config);
  state.views.network.update({ structure: { sizes, activations, inputNames: state.dataset?.inputs } });
  writeUrl(state);
  showMessage(state, "model", "hint", `Loaded the network “${m.name}”.`);
}

// -- what the user does --------------------------------------------------------------------

function changeField(state, field, value) {
  if (LIVE_FIELDS.has(field) && state.accepted) {
    send(state, "set", { [field]: value });
    return;
  }
  const patch = { [field]: value };
  if (field === "dataset") {
    patch.points = [];
    if (REGRESSION_SETS.has(value) && ["softmax", "sigmoid"].includes(state.config.output)) patch.output = "linear";
  }
  const output = patch.output ?? state.config.output;
  if (field === "output" || patch.output) patch.loss = consistentLoss(output, state.config.loss);
  configure(state, patch);
}

// The loss that goes with an output: cross-entropy after softmax, squared error after tanh or
// linear; after one sigmoid both squared error and binary cross-entropy fit.
function consistentLoss(output, loss) {
  if (output === "softmax") return "cross_entropy";
  if (output === "sigmoid") return loss === "binary_cross_entropy" ? loss : "squared_error";
  return "squared_error";
}

function resizeLayer(state, layer, delta) {
  const hidden = [...state.config.hidden];
  hidden[layer - 1] += delta;
  configure(state, { hidden });
}

function addPoint(state, { x1, x2, shiftKey }) {
  if (!state.dataset || SMALL_SETS.has(state.dataset.name) || state.dataset.extent === null) return;
  const round = (v) => +v.toFixed(3);
  let label;
  if (state.dataset.problem === "regression") {
    label = Number(state.$("#add-value input").value);
  } else {
    label = Number(state.root.querySelector("input[name=add-class]:checked").value);
    if (shiftKey) label = 1 - label;
  }
  send(state, "add_point", { x1: round(x1), x2: round(x2), label });
}

function bindButtons(state) {
  const { $ } = state;
  $("#play").addEventListener("click", () => send(state, state.running ? "pause" : "play"));
  $("#step").addEventListener("click", () => send(state, "step", { unit: "batch" }));
  $("#reset").addEventListener("click", () => send(state, "reset"));
  $("#regenerate").addEventListener("click", () => configure(state, { seed: randomSeed() }));
  $("#add-layer").addEventListener("click", () => configure(state, { hidden: [...state.config.hidden, NEW_LAYER_WIDTH] }));
  $("#remove-layer").addEventListener("click", () => configure(state, { hidden: state.config.hidden.slice(0, -1) }));
  $("#speed").addEventListener("change", (event) => setSpeed(state, Number(event.target.value) || null));
  $("#preset").addEventListener("change", (event) => {
    const preset = state.presets.find((p) => p.name === event.target.value);
    event.target.value = "";
    if (!preset) return;
    if (preset.speed !== undefined) setSpeed(state, preset.speed);
    configure(state, { points: [], ...preset.config });
  });
  $("#show-test").addEventListener("change", (event) => state.views.heatmap.update({ showTest: event.target.checked }));
  $("#discretize").addEventListener("change", (event) => state.views.heatmap.update({ discretize: event.target.checked }));
  const value = $("#add-value input");
  value.addEventListener("input", () => { $("#add-value output").value = value.value; });
  $("#save").addEventListener("click", () => {
    const name = $("#model-name").value.trim();
    if (name) send(state, "save", { name });
    else showMessage(state, "model", "error", "Give the model a name before saving it.");
  });
  $("#load").addEventListener("click", () => {
    const name = $("#model-list").value;
    if (name) send(state, "load", { name });
  });
}

// -- read-outs, messages, the URL ----------------------------------------------------------

function setRunning(state, running) {
  state.running = running;
  const play = state.$("#play");
  play.textContent = running ? "❚❚ Pause" : "▶ Play";
  play.classList.toggle("running", running);
  play.setAttribute("aria-pressed", String(running));
}

function setConnection(open) {
  const dot = document.getElementById("connection");
  dot?.classList.toggle("open", open);
  dot?.classList.toggle("closed", !open);
}

// steps per second, or null for flat out
function setSpeed(state, speed) {
  state.speed = speed;
  showSpeed(state);
  send(state, "speed", { steps_per_second: speed });
  writeUrl(state);
}

function showSpeed(state) {
  const select = state.$("#speed");
  const value = String(state.speed ?? 0);
  if (![...select.options].some((o) => o.value === value)) select.append(new Option(`${value} steps/s`, value));
  select.value = value;
}

// Controls that mean nothing for the chosen data set are disabled.
function showAvailability(state) {
  const { controls } = state.views;
  const small = SMALL_SETS.has(state.config.dataset);
  for (const field of ["noise", "train_ratio", "n_samples"]) controls.enable(field, !small);
  controls.enable("features", state.dataset.extent !== null && state.dataset.extent !== undefined);
  const regression = state.dataset.problem === "regression";
  for (const option of state.root.querySelectorAll("[data-field=output] option")) {
    option.disabled = regression && option.value === "softmax";
  }
  for (const option of state.root.querySelectorAll("[data-field=loss] option")) {
    option.disabled = option.value !== consistentLoss(state.config.output, option.value);
  }
  state.$("#add-class").hidden = regression;
  state.$("#add-value").hidden = !regression;
  state.$(".pg-addpoint").hidden = small;   // points go into the 2-D toy sets only
}

function showMessage(state, key, kind, text, actions = []) {
  const box = state.$("#messages");
  clearMessage(state, key);
  const div = document.createElement("div");
  div.className = `message ${kind}`;
  div.dataset.key = key;
  div.append(Object.assign(document.createElement("span"), { textContent: text }));
  for (const { label, onClick } of actions) {
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
    button.addEventListener("click", onClick);
    div.append(button);
  }
  const close = Object.assign(document.createElement("button"), { type: "button", className: "close", textContent: "×", title: "dismiss" });
  close.addEventListener("click", () => div.remove());
  div.append(close);
  box.append(div);
}

function clearMessage(state, key) {
  state.$(`#messages [data-key="${key}"]`)?.remove();
}

// The URL follows the configuration, written at most every URL_DELAY ms: replaceState is slow
// (milliseconds) and browsers throttle pages that call it too often.
function writeUrl(state) {
  if (state.urlTimer) return;
  state.urlTimer = setTimeout(() => {
    state.urlTimer = 0;
    const query = encodeConfig({ ...state.config, steps_per_second: state.speed ?? 0 });
    history.replaceState(null, "", `${location.pathname}?${query}`);
    state.$("#share").href = location.href;
  }, URL_DELAY);
}

function mathLink(state, layer) {
  const sizes = state.network?.sizes ?? [];
  if (!sizes.length || sizes.some((n) => n > MATH_MAX_WIDTH)) return null;
  return `/math?${encodeConfig(state.config)}&layer=${layer}`;
}

async function refreshModels(state) {
  try {
    const models = await getJSON("/api/models");
    const list = Array.isArray(models) ? models : models.models ?? [];
    const names = list.map((m) => (typeof m === "string" ? m : m.name));
    state.$("#model-list").replaceChildren(new Option("saved models…", ""), ...names.map((n) => new Option(n, n)));
  } catch {
    // no model list yet: the select keeps its placeholder
  }
}

// -- local minima: the loss has stopped falling well above zero ------------------------------

function resetPlateau(state) {
  state.plateau = { bestLoss: Infinity, bestStep: 0, shown: false };
  clearMessage(state, "stuck");
}

function checkPlateau(state, m) {
  const p = state.plateau;
  const loss = m.train_loss;
  if (loss === null || loss === undefined) return;
  if (loss < p.bestLoss * (1 - PLATEAU.gain)) { p.bestLoss = loss; p.bestStep = m.step; }
  const stepsPerEpoch = Math.max(1, Math.ceil((state.dataset?.n_train ?? 1) / state.config.batch_size));
  const window = Math.max(PLATEAU.minSteps, PLATEAU.epochs * stepsPerEpoch);
  const solved = loss <= PLATEAU.solvedLoss || m.train_accuracy === 1;
  const stuck = !solved && (p.shown ? loss > p.stuckLoss * (1 - PLATEAU.clearGain) : m.step - p.bestStep >= window);
  if (stuck && !p.shown) {
    p.stuckLoss = p.bestLoss;
    showMessage(state, "stuck", "hint",
      `The training loss has stayed near ${formatLoss(p.bestLoss)} for ${thousands(m.step - p.bestStep)} steps. ` +
      "The network may be stuck in a local minimum or on a plateau (new random starting weights often get it out), " +
      "or it may be too small for this data (add neurons or features).",
      [{ label: "New seed", onClick: () => send(state, "reset", { seed: randomSeed() }) }]);
  } else if (!stuck && p.shown) {
    clearMessage(state, "stuck");
  }
  p.shown = stuck;
}

// -- measuring the page's own speed ----------------------------------------------------------

// handlers: per incoming message type (snapshot, metrics, configured, ...), the time the page's
// handler took; drawing happens later, in animation frames, and shows in fps.
function createStats() {
  return { handlers: {}, fps: 0, fpsHistory: [] };
}

function timed(stats, type, fn) {
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

// Frames per second from requestAnimationFrame timestamps, once a second; fpsHistory keeps the
// last minute of (fps, running) pairs so a test can read what the page held while training.
function startFpsMeter(state) {
  const stats = state.stats;
  let windowStart = performance.now(), frames = 0;
  const tick = (now) => {
    frames += 1;
    if (now - windowStart >= 1000) {
      stats.fps = (frames * 1000) / (now - windowStart);
      stats.fpsHistory.push({ fps: +stats.fps.toFixed(1), running: state.running });
      if (stats.fpsHistory.length > 60) stats.fpsHistory.shift();
      frames = 0;
      windowStart = now;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// -- small helpers ---------------------------------------------------------------------------

function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

// 12345 -> "12,345" (without Intl, whose first use costs tens of milliseconds)
function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function formatLoss(v, missing = "–") {
  return v === null || v === undefined ? missing : v < 0.001 && v > 0 ? v.toExponential(2) : v.toFixed(3);
}

function formatPercent(v) {
  return v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`;
}

initPlayground(document.getElementById("playground"));
