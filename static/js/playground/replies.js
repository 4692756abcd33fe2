// What the Playground does with each message of its session (docs/protocol.md, server → client).
import { decodeConfig } from "../urlstate.js";
import { explain, label } from "../schema.js";
import { formatLoss, formatPercent, shown, thousands } from "../format.js";
import { changeField, configure, dataset, pick, send, showSpeed, writeUrl } from "./session.js";
import { setOnline, setRunning, showAvailability, showLayers } from "./panels.js";
import { checkPlateau, resetPlateau } from "./plateau.js";

export function onMessage(state, m) {
  const asked = m.id !== undefined ? state.pending.get(m.id) : undefined;
  if (m.id !== undefined) state.pending.delete(m.id);
  switch (m.type) {
    case "hello": onHello(state, m); break;
    case "configured": onConfigured(state, m); break;
    case "ack": onAck(state, m, asked ?? {}); break;
    case "metrics": onMetrics(state, m); break;
    case "error": onError(state, m, asked ?? {}); break;
    case "saved": state.messages.update({ key: "model", kind: "hint", text: `Saved the network as “${m.name}”.` }); state.refreshModels(); break;
    case "loaded": onLoaded(state, m); break;
    default: break;
  }
}

export function onFrame(state, frame) {
  if (frame.type === "dataset") onDataset(state, frame);
  else if (frame.type === "snapshot") onSnapshot(state, frame);
}

// A session starts (or comes back): a resumed one sends its configuration next; a new one is
// built from the page's address, which always holds the run.
function onHello(state, m) {
  if (m.schema) state.schema = m.schema;
  state.presets = Object.entries(m.presets ?? {})   // MNIST belongs to the Digits page
    .filter(([, p]) => p.config.dataset !== "mnist")
    .map(([name, p]) => ({ name, title: p.title ?? name, config: p.config, speed: p.steps_per_second }));
  state.$("#preset").replaceChildren(new Option("—", ""), ...state.presets.map((p) => new Option(p.title, p.name)));
  setOnline(state, true);
  const lost = state.lost;
  state.lost = null;
  state.banner.update({ status: "open", text: lost ? "The server is back." : "" });
  if (m.resumed) { state.resuming = { wasRunning: lost?.wasRunning ?? false }; return; }
  if (lost) {
    state.config = pick(state, decodeConfig(location.search, state.schema));
    state.restarted = { wasRunning: lost.wasRunning };
  }
  configure(state, {});
  send(state, "speed", { steps_per_second: state.speed });
}

function onConfigured(state, m) {
  state.accepted = true;
  state.config = pick(state, m.config);
  state.network = m.network;
  state.dataset = m.dataset;
  const plane = m.dataset.extent !== null && m.dataset.extent !== undefined;
  if (!plane) state.points = { train: [], test: [] };
  const { controls, network, heatmap, chart } = state.views;
  controls.update(state.config);
  showAvailability(state);
  network.update({ structure: structure(state, m.network) });
  const d = dataset(state);
  heatmap.update({
    map: null, problem: m.dataset.problem, points: state.points,
    note: plane ? null : `The ${d.label ?? m.dataset.name} set is a table of ${d.rows ?? m.dataset.n_train} rows with `
      + `${m.dataset.inputs.length} inputs each: there is no plane to draw. Watch the network instead.`,
  });
  state.$("#problem").textContent = m.dataset.problem;
  state.$(".pg-acc").hidden = m.dataset.problem === "regression";
  state.$("#seed").textContent = state.config.seed;
  showLayers(state);
  state.messages.clear("diverged");
  state.messages.clear("error");
  state.diverged = null;
  writeUrl(state);
  if (state.resuming) {
    state.messages.update({ key: "connection", kind: "note", text: `Reconnected: the same session, at step ${thousands(m.state.step)}.` });
    state.banner.update({ status: "open", text: `Reconnected at step ${thousands(m.state.step)}.` });
    if (state.resuming.wasRunning) send(state, "play");
    state.resuming = null;
    return;
  }
  chart.clear();
  resetPlateau(state);
  if (state.restarted) {
    const text = "The server no longer had this run's session (it restarted, or closed it while idle): the run was "
      + "rebuilt from this page's address, and training starts again from step 0.";
    state.messages.update({ key: "connection", kind: "note", text });
    state.banner.update({ status: "open", text });
    if (state.restarted.wasRunning) send(state, "play");
    state.restarted = null;
  } else if (state.resumeAfterConfigure) {
    send(state, "play");
  }
  state.resumeAfterConfigure = false;
}

// What the network view draws: the layers, the input features by their labels, and the limits
// of its +/− and weight editor.
function structure(state, network) {
  const { features, hidden } = state.schema.fields;
  const table = dataset(state).input_labels;
  return {
    sizes: network.sizes, activations: network.activations,
    inputNames: table ?? (state.dataset?.inputs ?? []).map((name) => features.choices.find((f) => f.value === name)?.label ?? name),
    widths: { min: hidden.min_width, max: hidden.max_width }, weight: state.schema.weight,
  };
}

function onDataset(state, frame) {
  const { X_train, y_train, X_test, y_test } = frame.arrays;
  const rows = (X, y) => (X.shape[1] === 2 ? Array.from(y, (value, i) => [X[2 * i], X[2 * i + 1], value]) : []);
  state.points = { train: rows(X_train, y_train), test: rows(X_test, y_test) };
  state.views.heatmap.update({ points: state.points, extent: frame.extent ?? state.schema.fields.points.extent });
}

function onSnapshot(state, frame) {
  const sizes = state.network?.sizes;
  if (!sizes || !fits(frame, sizes)) return;   // e.g. the last frame of the network before a configure
  const L = sizes.length - 1;
  state.views.network.update({ snapshot: frame });
  state.views.heatmap.update({
    map: frame.arrays[`maps${L}`] ?? null, mapNeuron: sizes[L] === 2 ? 1 : 0,
    activation: state.network.activations[L - 1], extent: frame.extent ?? state.schema.fields.points.extent,
  });
}

// Does a snapshot belong to a network of these layer sizes?
function fits(frame, sizes) {
  return sizes.every((n, l) => (l === 0 ? frame.arrays.maps0 ?? frame.arrays.W1 : frame.arrays[`b${l}`])?.shape[0] === n)
    && frame.arrays[`b${sizes.length}`] === undefined;
}

function onAck(state, m, asked) {
  if (m.state) setRunning(state, m.state.running);
  if (asked.command === "play" && state.diverged) {   // going on from the restored step
    state.messages.clear("diverged");
    state.diverged = null;
  }
  switch (asked.command) {
    case "set": {
      const { command, ...values } = asked;
      Object.assign(state.config, values);
      state.views.controls.update(values);
      if (state.diverged) showDiverged(state);
      writeUrl(state);
      break;
    }
    case "reset":
      if (asked.seed !== undefined) state.config.seed = asked.seed;
      state.$("#seed").textContent = state.config.seed;
      state.views.chart.clear();
      resetPlateau(state);
      state.messages.clear("diverged");
      state.diverged = null;
      writeUrl(state);
      break;
    case "add_point":   // the server follows with the whole data set in a `dataset` frame
      state.config.points = [...(state.config.points ?? []), m.point];
      writeUrl(state);
      break;
    case "speed": showSpeed(state); break;
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
  state.views.chart.update({ x: m.step, values: { train: m.train_loss, test: m.test_loss }, measuredAt: m.test_step });
  if (m.running !== undefined && state.online) setRunning(state, m.running);
  checkPlateau(state, m);
}

// After a divergence the trainer is back at its last good step: say so, with the rate that
// diverged and the one now set, and offer the fixes.
function showDiverged(state) {
  const d = state.diverged;
  const now = state.config.learning_rate;
  const rate = now === d.learning_rate ? `The learning rate ${shown(d.learning_rate)} is probably too high: lower it, then press Play.`
    : `It diverged at learning rate ${shown(d.learning_rate)}; the rate is now ${shown(now)}: press Play to go on from step ${thousands(d.restored_step)}.`;
  state.messages.update({
    key: "diverged", kind: "error",
    text: `Training diverged at step ${thousands(d.step)}: the loss grew without bound. The run is paused and the network `
      + `is back at step ${thousands(d.restored_step)}, before the loss blew up. ${rate} `
      + "(Large rates overshoot, most of all with ReLU or linear units.)",
    actions: [
      { label: "Learning rate ÷ 10", onClick: () => changeField(state, "learning_rate", +(state.config.learning_rate / 10).toPrecision(3)) },
      { label: "Reset", onClick: () => send(state, "reset") },
    ],
  });
}

function onError(state, m, asked) {
  if (m.code === "diverged") {
    setRunning(state, false);
    state.diverged = { step: m.step, restored_step: m.restored_step, learning_rate: m.learning_rate ?? state.config.learning_rate };
    showDiverged(state);
    return;
  }
  if (m.code === "internal") setRunning(state, false);
  const text = explain(state.schema, m, asked.command === "configure" ? asked.config : asked);
  if (asked.command === "configure" && !state.accepted) {   // a bad link: start from the server's defaults
    state.messages.update({ key: "link", kind: "error", text: `This link's settings could not be used: ${text} The defaults are shown instead.`, details: m.message });
    state.config = {};
    state.asked = null;
    configure(state, {});
    return;
  }
  state.messages.update({ key: "error", kind: "error", text, details: m.message });
  if (asked.command === "configure" || asked.command === "set") state.views.controls.update(state.config);
}

function onLoaded(state, m) {
  state.config = pick(state, m.config);
  state.network = m.network;
  setRunning(state, false);
  state.views.controls.update(state.config);
  showLayers(state);
  state.views.network.update({ structure: structure(state, m.network) });
  writeUrl(state);
  state.messages.update({ key: "model", kind: "hint", text: `Loaded the network “${m.name}” (${label(state.schema, "activation", m.config.activation)} hidden layers).` });
}
