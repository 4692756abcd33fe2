// The Playground page: wires the controls and the views to one training session (/ws/session).
// All page state lives in one object made by initPlayground; playground/*.js receive it:
// session.js sends, replies.js handles what comes back, panels.js decides what the controls show
// and allow, plateau.js the stuck hint, stats.js the page's own speed.
import { connect, getJSON } from "./socket.js";
import { decodeConfig, encodeConfig } from "./urlstate.js";
import { problem, readSchema } from "./schema.js";
import { shown } from "./format.js";
import { createChart } from "./views/chart.js";
import { createConnectionBanner, lostWords } from "./views/banner.js";
import { createControls } from "./views/controls.js";
import { createHeatmap } from "./views/heatmap.js";
import { createMessages } from "./views/messages.js";
import { createNetwork } from "./views/network.js";
import { changeField, configure, dataset, pick, randomSeed, send, setSpeed, showSpeed } from "./playground/session.js";
import { onFrame, onMessage } from "./playground/replies.js";
import { setOnline, showRunButtons, showValidity } from "./playground/panels.js";
import { createStats, startFpsMeter, timed } from "./playground/stats.js";

const NEW_LAYER_WIDTH = 2;

export function initPlayground(root) {
  const schema = readSchema();
  const query = decodeConfig(location.search, schema);
  const $ = (selector) => root.querySelector(selector);
  const state = {
    root, $, schema,
    config: {},                          // the configuration shown; the server's once configured
    asked: null,                         // the config of the last configure sent
    accepted: false,                     // the server has accepted a configuration
    dataset: null,                       // configured.dataset
    network: null,                       // configured.network: {sizes, activations, loss}
    points: { train: [], test: [] },
    running: false,
    online: false,
    lost: null,                          // {wasRunning} while the server is away
    resuming: null, restarted: null,     // after a reconnection, until the next `configured`
    resumeAfterConfigure: false,
    diverged: null,                      // {step, restored_step, learning_rate} until the next run
    invalid: new Map(),                  // field -> why the value being typed is refused
    speed: "steps_per_second" in query ? query.steps_per_second || null : schema.speed.default,
    pending: new Map(),                  // message id -> {command, ...what was asked}
    plateau: null,
    presets: [],
    stats: createStats(),
    urlTimer: 0,
  };
  state.config = pick(state, query);
  state.messages = createMessages($("#messages"));
  state.banner = createConnectionBanner(document.getElementById("connection-banner"), {
    dot: document.getElementById("connection"), onRetry: () => state.socket.retryNow(),
  });
  state.views = {
    controls: createControls(root, {
      onChange: (field, value) => changeField(state, field, value),
      check: (field, value) => problem(state.schema, field, value),
      onValidity: (field, text) => showValidity(state, field, text),
      format: (field, value) => (state.schema.fields[field]?.percent ? `${Math.round(value * 100)}%` : shown(value)),
      minFeatures: schema.fields.features.min_items,
    }),
    network: createNetwork($("#network"), {
      onSetWeight: (layer, from, to, value) => send(state, "set_weight", { layer, from, to, value }),
      onSetBias: (layer, neuron, value) => send(state, "set_bias", { layer, neuron, value }),
      onResizeLayer: (layer, delta) => resizeLayer(state, layer, delta),
      layerLink: (layer) => mathLink(state, layer),
    }),
    heatmap: createHeatmap($("#heatmap"), { onClick: (p) => addPoint(state, p), size: 300 }),
    chart: createChart($("#loss-chart"), {
      title: "Loss", height: 130, log: true, series: [
        { key: "test", label: "test", color: "#222", measured: true },
        { key: "train", label: "train", color: "#999" },
      ],
    }),
  };
  state.refreshModels = () => refreshModels(state);
  window.nnplayStats = state.stats;
  bindButtons(state);
  startFpsMeter(state.stats, () => state.running);
  state.views.controls.update(state.config);
  showSpeed(state);
  setOnline(state, false);
  state.socket = connect({
    onClose: (event, retryMs) => onClose(state, event, retryMs),
    onMessage: (message) => timed(state.stats, message.type, () => onMessage(state, message)),
    onFrame: (frame) => timed(state.stats, frame.type, () => onFrame(state, frame)),
  });
  refreshModels(state);
  return state;
}

// The server went away: the run is shown paused, the controls wait, the banner says what happened.
function onClose(state, event, retryMs) {
  if (state.online) state.lost = { wasRunning: state.running };   // not when the first try fails
  state.pending.clear();
  setOnline(state, false);
  state.banner.update({ status: "lost", text: lostWords(event, retryMs,
    "The run is paused and nothing can be changed until the server is back; this page keeps the settings.") });
}

function resizeLayer(state, layer, delta) {
  const hidden = [...state.config.hidden];
  hidden[layer - 1] += delta;
  if (problem(state.schema, "hidden", hidden)) return;   // the buttons are disabled at the limits
  configure(state, { hidden });
}

function addPoint(state, { x1, x2, shiftKey }) {
  if (!state.dataset || dataset(state).kind !== "plane" || state.dataset.extent === null) return;
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

function togglePlay(state) {
  if (!state.online) return;
  if (!state.running && state.invalid.size) return;   // Play is disabled: the field's problem is shown
  send(state, state.running ? "pause" : "play");
}

function bindButtons(state) {
  const { $ } = state;
  for (const id of ["#play", "#step"]) $(id).dataset.title = $(id).title;
  $("#play").addEventListener("click", () => togglePlay(state));
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
  $("#model-name").pattern = state.schema.model_name.pattern.replace(/^\^|\$$/g, "");
  $("#save").addEventListener("click", () => {
    const input = $("#model-name");
    const name = input.value.trim();
    if (!name) state.messages.update({ key: "model", kind: "error", text: "Give the model a name before saving it." });
    else if (!new RegExp(state.schema.model_name.pattern).test(name)) {
      state.messages.update({ key: "model", kind: "error", text: `“${name}” cannot be a model name: use letters, digits, - and _ (up to 64, starting with a letter or digit).` });
    } else send(state, "save", { name });
  });
  $("#load").addEventListener("click", () => {
    const name = $("#model-list").value;
    if (name) send(state, "load", { name });
  });
  // Space plays and pauses, as the Play button's title says; not while typing or choosing.
  document.addEventListener("keydown", (event) => {
    if (event.key !== " " || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.("input, select, textarea, button, [contenteditable], .net-editor")) return;
    event.preventDefault();
    togglePlay(state);
  });
  showRunButtons(state);
}

function mathLink(state, layer) {
  const sizes = state.network?.sizes ?? [];
  if (!sizes.length || sizes.some((n) => n > state.schema.trace.max_width)) return null;   // no trace, no Math page
  return `/math?${encodeConfig(state.config)}&layer=${layer}`;
}

async function refreshModels(state) {
  try {
    const models = await getJSON("/api/models");
    const names = (models.models ?? []).map((m) => m.name);
    state.$("#model-list").replaceChildren(new Option("saved models…", ""), ...names.map((n) => new Option(n, n)));
  } catch {
    // no model list yet: the select keeps its placeholder
  }
}

initPlayground(document.getElementById("playground"));
