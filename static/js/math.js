// The Math page: one training step, operation by operation, with the numbers of the step the
// server really ran (a `trace` message, docs/protocol.md). This file only wires things up:
// the operations come from steps.js, the matrices are drawn by views/matrix.js.
//
// URL: /math?preset=xor | one_neuron, or /math?<config as encoded by urlstate.js>&layer=<l>.
import { connect } from "./socket.js";
import { frameScheduler } from "./frame.js";
import { decodeConfig } from "./urlstate.js";
import { readSchema } from "./schema.js";
import { buildOperations } from "./steps.js";
import { lineFormula, lineShapes } from "./steps/tokens.js";
import { createEquation } from "./views/matrix.js";
import { createLayerGraph } from "./views/layergraph.js";

// The server's presets (app/presets.py, the same as the Playground's), by name.
const PRESETS = ["xor", "one_neuron"];
const MAX_BATCH = 16;
const MAX_WIDTH = 8;
const PLAY_INTERVAL_MS = 1500;
const HINT = "Hover over a number of a result to see where it comes from.";

// What the address asks for: a preset, or a Playground configuration, and a layer to show.
function readAddress(search) {
  const params = decodeConfig(search, readSchema());
  const layer = params.layer === undefined ? null : Number(params.layer);
  const preset = params.preset;
  delete params.layer;
  delete params.preset;
  if (Object.keys(params).length) return { preset: "link", config: params, layer };
  return { preset: PRESETS.includes(preset) ? preset : "xor", config: null, layer };
}

// The configuration to send, and notes on what had to change for this page.
function fitToPage(config) {
  const notes = [];
  const fitted = { ...config };
  if (fitted.dataset === "mnist") throw new Error("the Math view shows small networks; MNIST has 784 inputs. Open a toy data set instead.");
  if (!(fitted.batch_size <= MAX_BATCH)) {
    notes.push(`The batch size was ${fitted.batch_size ?? "the default"}; this view uses ${MAX_BATCH} samples so that every matrix fits.`);
    fitted.batch_size = MAX_BATCH;
  }
  if ((fitted.hidden ?? []).some((n) => n > MAX_WIDTH)) notes.push(`Layers wider than ${MAX_WIDTH} neurons make very wide matrices.`);
  return { config: fitted, notes };
}

function init() {
  const $ = (id) => document.getElementById(id);
  const address = readAddress(location.search);
  const state = {
    preset: address.preset, notes: [], configured: null,
    trace: null, lastTrace: null, ops: [], index: 0,
    afterTrace: { layer: address.layer }, // when the next trace comes: "keep" the operation, "start" over, or {layer}
    update: "gradient", bias: "separate", playing: false, timer: 0, waiting: false, error: null,
    shownOp: null, // the operation the card shows now
  };

  const card = $("math-op");
  card.innerHTML = `<header class="op-head"><span class="op-count"></span><h1 class="op-title"></h1></header>
    <p class="op-formula"></p><p class="op-shapes"></p><p class="op-sentence"></p><div class="op-equation"></div>`;
  const equation = createEquation(card.querySelector(".op-equation"), { hint: HINT });
  const graph = createLayerGraph($("math-graph"), { onSelect: jumpToLayer });
  const scheduler = frameScheduler(render);

  function send(type, fields) {
    if (!socket.ready) return false;
    socket.send(type, fields);
    return true;
  }

  function configure() {
    state.error = null;
    state.notes = [];
    state.trace = null;
    state.ops = [];
    state.waiting = false;
    if (state.preset !== "link") {
      send("configure", { preset: state.preset, config: {} });
    } else {
      try {
        const { config, notes } = fitToPage(address.config);
        state.notes = notes;
        send("configure", { config });
      } catch (error) {
        state.error = error.message;
      }
    }
    scheduler.request();
  }

  function requestStep(after) {
    if (state.waiting || !state.configured) return;
    if (send("step", { unit: "batch", trace: true })) {
      state.waiting = true;
      state.afterTrace = after;
    }
    scheduler.request();
  }

  function rebuild() {
    if (!state.trace) return;
    const id = state.ops[state.index]?.id;
    try {
      state.ops = buildOperations(state.trace, { update: state.update, bias: state.bias, config: state.configured?.config });
    } catch (error) {
      state.ops = [];
      state.error = error.message;
    }
    const kept = state.ops.findIndex((o) => o.id === id);
    state.index = kept >= 0 ? kept : 0;
  }

  function onTrace(message) {
    state.lastTrace = message;
    state.trace = message;
    state.waiting = false;
    const after = state.afterTrace;
    rebuild();
    if (after === "start") state.index = 0;
    else if (after?.layer !== null && after?.layer !== undefined) jumpToLayer(after.layer);
    state.afterTrace = "keep";
    scheduler.request();
  }

  function go(index) {
    state.index = Math.max(0, Math.min(state.ops.length - 1, index));
    scheduler.request();
  }

  function next() {
    if (state.index < state.ops.length - 1) go(state.index + 1);
    else requestStep("start");
  }

  // The same kind of operation in another layer, else that layer's first operation.
  function jumpToLayer(layer) {
    const kind = state.ops[state.index]?.kind;
    const same = state.ops.findIndex((o) => o.layer === layer && o.kind === kind);
    const first = layer === 0 ? 0 : state.ops.findIndex((o) => o.layer === layer && o.kind === "params");
    const index = same >= 0 ? same : first;
    if (index >= 0) go(index);
  }

  function setPlaying(playing) {
    state.playing = playing;
    clearInterval(state.timer);
    if (playing) state.timer = setInterval(() => { if (!state.waiting) next(); }, PLAY_INTERVAL_MS);
    scheduler.request();
  }

  function render() {
    $("math-message").hidden = !state.error && !state.notes.length;
    $("math-message").className = `message ${state.error ? "error" : "hint"}`;
    $("math-message").textContent = state.error ?? state.notes.join(" ");
    const op = state.ops[state.index];
    const t = state.trace;
    $("math-status").textContent = !socket.ready ? "connecting…" : state.waiting ? "running a step…"
      : t ? `training step ${t.step} · loss ${t.loss === null ? "–" : t.loss.toFixed(4)}` : "";
    $("math-prev").disabled = !op || state.index === 0;
    $("math-next").disabled = !op || state.waiting;
    $("math-step").disabled = !state.configured || state.waiting;
    $("math-play").textContent = state.playing ? "❚❚ Pause" : "▶ Play";
    renderList();
    const network = state.configured?.network;
    if (network) graph.update({ sizes: network.sizes, activations: network.activations, current: op?.layer ?? null });
    $("math-summary").textContent = network ? summary(network, state.configured.config) : "";
    card.classList.toggle("empty", !op);
    if (!op) {
      if (state.shownOp) {
        for (const part of card.querySelectorAll(".op-count, .op-formula, .op-shapes, .op-sentence")) part.textContent = "";
        equation.update([], "");
        state.shownOp = null;
      }
      card.querySelector(".op-title").textContent = state.error ? "" : "Running the first training step…";
      return;
    }
    if (op === state.shownOp) return; // unchanged: keep the DOM, and the reader's hover with it
    state.shownOp = op;
    card.dataset.op = op.id;
    card.dataset.step = String(t.step);
    card.dataset.notation = `${state.update} ${state.bias}`;
    card.querySelector(".op-count").textContent = `Step ${t.step} · operation ${state.index + 1} of ${state.ops.length}`;
    card.querySelector(".op-title").textContent = op.title;
    card.querySelector(".op-formula").textContent = op.formula ?? op.lines.map(lineFormula).join("     ");
    card.querySelector(".op-shapes").textContent = `shapes: ${op.shapes ?? op.lines.map(lineShapes).join(";   ")}`;
    card.querySelector(".op-sentence").textContent = op.sentence;
    equation.update(op.lines, HINT);
  }

  function renderList() {
    const list = $("math-ops");
    const titles = state.ops.map((o) => o.title).join("|");
    if (list.dataset.titles !== titles) {
      list.dataset.titles = titles;
      list.replaceChildren(...state.ops.map((o, i) => {
        const item = document.createElement("li");
        const button = Object.assign(document.createElement("button"), { type: "button", textContent: o.title });
        item.append(button);   // a button, so Tab and Enter reach every operation too
        item.dataset.op = o.id;
        item.dataset.kind = o.kind;
        item.addEventListener("click", () => go(i));
        return item;
      }));
    }
    [...list.children].forEach((item, i) => {
      item.classList.toggle("current", i === state.index);
      if (i === state.index) item.firstChild.setAttribute("aria-current", "step"); else item.firstChild.removeAttribute("aria-current");
    });
  }

  function summary(network, config) {
    const optimizer = config.optimizer === "sgd" ? "plain SGD" : config.optimizer;
    return `${network.sizes.join(" → ")} · ${network.activations.join(", ")} · ${network.loss.replace(/_/g, " ")} · `
      + `${optimizer}, η = ${config.learning_rate} · batch ${config.batch_size}`;
  }

  function onMessage(message) {
    if (message.type === "configured") {
      state.configured = message;
      requestStep(state.afterTrace === "keep" ? "start" : state.afterTrace);
    } else if (message.type === "trace") {
      onTrace(message);
    } else if (message.type === "error") {
      state.waiting = false;
      state.error = message.message;
      setPlaying(false);
    }
    scheduler.request();
  }

  const socket = connect({
    onOpen() { $("connection").className = "connection open"; state.configured = null; configure(); },
    onMessage,
    onClose() { $("connection").className = "connection closed"; scheduler.request(); },
  });

  const preset = $("math-preset");
  preset.querySelector('option[value="link"]').hidden = address.preset !== "link";
  preset.value = state.preset;
  preset.addEventListener("change", () => {
    state.preset = preset.value;
    state.afterTrace = "start";
    state.configured = null;
    history.replaceState(null, "", state.preset === "link" ? location.href : `/math?preset=${state.preset}`);
    configure();
  });
  for (const name of ["update", "bias"]) {
    for (const radio of document.querySelectorAll(`input[name="math-${name}"]`)) {
      radio.addEventListener("change", () => { state[name] = radio.value; radio.blur(); rebuild(); scheduler.request(); });
    }
  }
  $("math-prev").addEventListener("click", () => go(state.index - 1));
  $("math-next").addEventListener("click", next);
  $("math-step").addEventListener("click", () => requestStep("keep"));
  $("math-play").addEventListener("click", () => setPlaying(!state.playing));
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("select, input, textarea")) return;   // a radio's own arrows and Space choose
    if (event.key === " " && event.target.closest("button, [tabindex]")) return; // a focused control's own Space
    const action = { ArrowRight: next, ArrowLeft: () => go(state.index - 1), ArrowDown: () => requestStep("keep"),
      " ": () => setPlaying(!state.playing) }[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
  window.addEventListener("resize", () => scheduler.request());

  // For tests and the curious: the last trace the server sent, and where the walk-through is.
  window.nnplayMath = {
    get lastTrace() { return state.lastTrace; },
    get operation() { return state.ops[state.index]?.id ?? null; },
    get operations() { return state.ops.map((o) => o.id); },
    get waiting() { return state.waiting; },
  };
}

init();
