// The Digits page: draw a digit and watch a network read it, layer by layer; train an MNIST
// network live on the same page and let it read the drawing instead. This shell makes the views
// (digits/reader.js, inside.js, trainer.js, results.js), routes the session's messages to them and
// says what happens to the connection; each view keeps its own state.
import { connect } from "./socket.js";
import { readSchema } from "./schema.js";
import { thousands } from "./format.js";
import { createConnectionBanner, lostWords } from "./views/banner.js";
import { createReader } from "./digits/reader.js";
import { createInside } from "./digits/inside.js";
import { createTrainer } from "./digits/trainer.js";
import { createResults } from "./digits/results.js";

const LIVE_REREAD_MS = 250;      // while training, the live network re-reads the drawing this often
const LIVE_VIEW_MS = 100;        // and its network view follows the snapshots at most this often
const RATE_WINDOW_MS = 2000;

function init(root) {
  const $ = (id) => document.getElementById(id);
  const schema = readSchema();
  const state = {
    reader: "pretrained", network: null, running: false, liveShownAt: 0, arrivals: { metrics: [], weights: [] },
    online: false, everOnline: false, resumed: false, restarted: false,   // resumed/restarted: until the next `configured`
  };
  const banner = createConnectionBanner($("connection-banner"), { dot: $("connection"), onRetry: () => socket.retryNow() });
  const socket = connect({ onMessage, onFrame, onClose });
  const inside = createInside(root, { onSelect: select });
  const reader = createReader(root, { socket, onReading: (prediction) => inside.update({ prediction }) });
  const results = createResults(root, {
    onSelectImage: (j) => { if (state.reader !== "live") setReader("live"); select({ layer: 1, index: j }); },
    onLive: ({ weights, images }) => {
      const now = performance.now();
      if (images) count("weights");
      if (state.reader !== "live" || (!images && now - state.liveShownAt < LIVE_VIEW_MS)) return;
      state.liveShownAt = now;
      inside.update({ live: { ...state.network, weights } });
    },
  });
  const trainer = createTrainer(root, {
    schema, socket,
    onConfigured: (m) => {
      state.network = m.network;
      results.update({ network: m.network, clear: !state.resumed });
      document.querySelector("input[name=reader][value=live]").disabled = false;
      if (state.reader === "live") { inside.update({ live: { ...m.network, weights: null }, selected: null }); reader.update({ again: true }); }
    },
    onRunning: (running) => { state.running = running; },
  });

  function select(target) {
    results.update({ selected: state.reader === "live" && target.layer === 1 ? target.index : null });
    inside.update({ selected: target });
  }

  function setReader(which) {
    state.reader = which;
    for (const input of document.querySelectorAll("input[name=reader]")) input.checked = input.value === which;
    results.update({ selected: null });
    inside.update({ reader: which, selected: null, live: which === "live" && state.network ? { ...state.network, weights: null } : null });
    reader.update({ reader: which });
  }

  function onMessage(m) {
    if (m.type === "metrics") count("metrics");
    if (m.type === "prediction" || (m.type === "error" && m.id !== undefined)) reader.update({ reply: m });
    if (m.type === "hello") onHello(m);
    trainer.update(m);
    if (m.type !== "configured") return;
    if (state.resumed) banner.update({ status: "open", text: `Reconnected: the same session, at step ${thousands(m.state.step)}.` });
    if (state.restarted) {
      banner.update({ status: "open", text: "The server no longer had this page's training session (it restarted, or closed "
        + "it while idle): the network was built again from these settings, and training starts again from step 0." });
    }
    state.resumed = state.restarted = false;
  }

  function onHello(m) {
    const back = state.everOnline && !state.online;
    state.online = state.everOnline = true;
    state.resumed = back && Boolean(m.resumed);
    state.restarted = back && !m.resumed;
    banner.update({ status: "open", text: back ? "The server is back." : "" });
  }

  function onFrame(frame) {
    if (frame.type === "snapshot") results.update({ snapshot: frame });
    else if (frame.type === "evaluation") results.update({ evaluation: frame });
  }

  function onClose(event, retryMs) {
    state.online = false;
    trainer.update({ type: "lost" });
    reader.update({ lost: true });
    banner.update({ status: "lost", text: lostWords(event, retryMs,
      "Training is paused and the drawing cannot be read until the server is back; this page keeps its settings.") });
  }

  function count(kind) {
    const now = performance.now(), list = state.arrivals[kind];
    list.push(now);
    while (list.length && list[0] < now - RATE_WINDOW_MS) list.shift();
  }

  function rate(kind) {
    const list = state.arrivals[kind], now = performance.now();
    while (list.length && list[0] < now - RATE_WINDOW_MS) list.shift();
    return list.length / (RATE_WINDOW_MS / 1000);
  }

  setInterval(() => {
    $("rates").textContent = rate("metrics") > 0
      ? `updates: metrics ${rate("metrics").toFixed(0)}/s · weight images ${rate("weights").toFixed(0)}/s` : "";
  }, 500);
  setInterval(() => { if (state.reader === "live" && state.running) reader.update({ refresh: true }); }, LIVE_REREAD_MS);
  for (const input of document.querySelectorAll("input[name=reader]")) input.addEventListener("change", () => setReader(input.value));
}

init(document.getElementById("digits"));
