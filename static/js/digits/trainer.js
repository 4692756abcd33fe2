// The Digits page's "Train on MNIST" panel: the settings (digits/settings.js: read and checked in
// one place against the schema), Train / Reset, the run's figures and charts, the time it took to
// reach the architecture's milestone accuracy (its preset's `milestone`), and the MNIST download.
// The first-layer weight images, the confusion matrix and the misread digits are drawn by
// digits/results.js from the same session's frames.
// createTrainer(root, {schema, socket, onConfigured(configured), onRunning(running)})
//   -> {update(message), destroy(), running}
//   message: a message of the session, or {type: "lost"} when its socket closed. After a close the
//   panel shows the run paused; when the session comes back (hello.resumed) it plays on if it
//   was playing, and when a new one opens instead it is built again from the settings.
import { decodeConfig, encodeConfig } from "../urlstate.js";
import { explain } from "../schema.js";
import { formatCount, formatPercent, formatSeconds, plural, thousands } from "../format.js";
import { createChart } from "../views/chart.js";
import { createDownload } from "./download.js";
import { createSettings } from "./settings.js";

const FIXED = { dataset: "mnist", output: "softmax", loss: "cross_entropy" };   // what makes it MNIST here

export function createTrainer(root, { schema, socket, onConfigured, onRunning }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const form = $("settings");
  const state = {
    schema, config: null, running: false, touched: false, changedEarly: false, thenPlay: false, problem: null,
    run: { startedAt: null, trainedMs: 0, resumedAt: null, reachedAt: null, target: null },
    sent: null,
    lost: null,            // {wasRunning} while the socket is closed
    playOnConfigured: false,
  };
  const charts = {
    loss: createChart($("loss-chart"), { title: "Loss", height: 130, log: true, series: [
      { key: "train_loss", label: "train", color: "#f59322" },
      { key: "test_loss", label: "test", color: "#0877bd", measured: true }] }),
    accuracy: createChart($("accuracy-chart"), { title: "Accuracy", height: 130, yMin: 0, yMax: 1, format: (v) => formatPercent(v, 0), series: [
      { key: "train_accuracy", label: "train", color: "#f59322" },
      { key: "test_accuracy", label: "test", color: "#0877bd", measured: true }] }),
  };
  const download = createDownload(root, { socket, onReady: () => configure(false) });

  const settings = createSettings(form, { schema, onProblem: (problem) => { state.problem = problem; showTrain(); } });
  const fields = settings.fields;

  function showTrain() {
    const train = $("train");
    train.disabled = !socket.ready || !state.config || (state.problem !== null && !state.running);
    train.title = state.problem && !state.running ? state.problem : !socket.ready ? "Waiting for the server" : "";
    $("reset").disabled = !socket.ready || !state.config;
  }

  function full() {
    return { ...(settings.preset()?.config ?? {}), ...FIXED, ...settings.read().settings };
  }

  function configure(thenPlay) {
    if (!settings.check()) return;
    state.thenPlay = thenPlay;
    state.sent = full();
    socket.send("configure", { config: state.sent });
    keepInUrl(state.sent);
  }

  // The settings in the address, so a link or a reload brings them back.
  function keepInUrl(values) {
    history.replaceState(null, "", `?${encodeConfig(settings.forUrl(values))}`);
  }

  // Does the form describe another network than the session's? (live fields are changed with `set`,
  // unless `live` is true)
  function changed(live = false) {
    const now = settings.read().settings;
    const unused = now.architecture === "conv" ? "hidden" : "layers";
    return fields.some((k) => k !== unused && (live || !state.schema.live.includes(k))
      && JSON.stringify(now[k]) !== JSON.stringify(state.config[k]));
  }

  // The session's network is built (paused) as soon as the page connects, so its untrained
  // weights, accuracy and guesses are there to compare with; Train only starts the worker.
  function onTrain() {
    if (!socket.ready || !state.config) return;
    if (state.running) { socket.send("pause"); return; }
    if (!settings.check()) return;
    if (state.run.startedAt === null) { state.run.startedAt = performance.now(); state.run.reachedAt = null; }
    if (changed()) configure(true);
    else socket.send("play");
  }

  function onChange(event) {
    state.touched = true;
    if (!state.config) { state.changedEarly = true; return; }   // built again once the first network is there
    if (!settings.check()) return;
    const field = event.target.name;
    const now = settings.read().settings;
    if (state.schema.live.includes(field) && !changed()) { socket.send("set", { [field]: now[field] }); keepInUrl(now); }
    else if (changed()) { restart(state.running); configure(state.running); }
  }

  // A new network: clocks, charts and test results start over; `training` when it trains on at once.
  function restart(training) {
    const now = training ? performance.now() : null;
    state.run = { startedAt: now, trainedMs: 0, resumedAt: now, reachedAt: null, target: null };
    charts.loss.clear();
    charts.accuracy.clear();
    $("milestone").textContent = "";
  }

  function setRunning(running) {
    if (running === state.running) return;
    const now = performance.now();
    if (running) state.run.resumedAt = now;
    else if (state.run.resumedAt !== null) { state.run.trainedMs += now - state.run.resumedAt; state.run.resumedAt = null; }
    state.running = running;
    $("train").textContent = running ? "❚❚ Pause" : "▶ Train";
    $("train").classList.toggle("running", running);
    showTrain();
    onRunning(running);
  }

  function trainedSeconds() {
    const r = state.run;
    return (r.trainedMs + (r.resumedAt !== null ? performance.now() - r.resumedAt : 0)) / 1000;
  }

  function onMetrics(m) {
    const values = (keys) => Object.fromEntries(keys.map((k) => [k, m[k]]));
    charts.loss.update({ x: m.step, values: values(["train_loss", "test_loss"]), measuredAt: m.test_step });
    charts.accuracy.update({ x: m.step, values: values(["train_accuracy", "test_accuracy"]), measuredAt: m.test_step });
    $("epoch").textContent = thousands(m.epoch);
    $("epoch-unit").textContent = plural(m.epoch, "epoch").replace(/^[\d,]+ /, "");
    $("accuracy").textContent = m.test_accuracy === null || m.test_accuracy === undefined ? "–" : `${(100 * m.test_accuracy).toFixed(1)} %`;
    // While training, the server scores the first 1,000 test digits; after an epoch and on pause, all of them.
    $("accuracy-rows").textContent = m.test_rows ? `on ${thousands(m.test_rows)} digits` : "";
    $("speed").textContent = m.samples_per_second ? formatCount(m.samples_per_second) : "–";
    $("elapsed").textContent = formatSeconds(trainedSeconds());
    if (m.running !== undefined) setRunning(m.running);
    const target = state.run.target;
    if (state.run.reachedAt === null && state.run.startedAt !== null && target !== null && m.test_accuracy >= target) {
      state.run.reachedAt = performance.now();
      const seconds = (state.run.reachedAt - state.run.startedAt) / 1000;
      $("milestone").textContent = `${+(100 * target).toFixed(1)} % reached ${seconds.toFixed(1)} s after pressing Train`
        + (m.test_rows ? ` (on ${thousands(m.test_rows)} test digits)` : "");
      $("milestone").dataset.seconds = seconds.toFixed(2);
    }
  }

  function error(text, details = null) {
    $("train-error").hidden = !text;
    $("train-error").querySelector(".message-text").textContent = text ?? "";
    $("train-error").querySelector("pre").textContent = details ?? "";
    $("train-error").querySelector("details").hidden = !details;
  }

  function onError(m) {
    if (m.code === "mnist_missing") { download.update({ missing: true }); setRunning(false); showTrain(); return; }
    if (m.code === "diverged" || m.code === "internal") setRunning(false);
    const text = m.code === "diverged"
      ? `Training diverged at step ${thousands(m.step)}: the loss grew without bound. The network is back at step `
        + `${thousands(m.restored_step)}, before it blew up. Choose a smaller learning rate, then press Train to go on.`
      : explain(state.schema, m, state.sent ?? {});
    error(text, m.message);
  }

  form.addEventListener("change", onChange);
  form.addEventListener("input", (event) => { if (["hidden", "layers"].includes(event.target.name)) settings.check(); });
  form.addEventListener("submit", (event) => event.preventDefault());
  $("train").addEventListener("click", onTrain);
  $("reset").addEventListener("click", () => { restart(false); socket.send("reset"); });
  const timer = setInterval(() => { if (state.running) $("elapsed").textContent = formatSeconds(trainedSeconds()); }, 500);
  settings.write(decodeConfig(location.search, schema));

  return {
    update(m) {
      switch (m.type) {
        case "hello": {
          if (m.schema) { state.schema = m.schema; settings.setSchema(m.schema); }
          settings.setPresets(m.presets);
          const asked = decodeConfig(location.search, state.schema);
          if (!state.touched) settings.write({ ...(settings.preset(asked.architecture ?? form.architecture.value)?.config ?? {}), ...asked });
          const wasRunning = state.lost?.wasRunning ?? false;
          state.lost = null;
          if (m.resumed) { state.playOnConfigured = wasRunning; break; }
          if (wasRunning) restart(true);
          configure(wasRunning);   // a new session (first, or after a restart) needs the network built
          break;
        }
        case "configured":
          state.config = m.config;
          if (state.run.reachedAt === null) state.run.target = settings.milestone();
          error(null);
          download.update({ missing: false });
          if (state.thenPlay || state.playOnConfigured) socket.send("play");
          else if (state.changedEarly && changed(true)) configure(false);   // changed before the network was built
          state.thenPlay = state.playOnConfigured = state.changedEarly = false;
          showTrain();
          onConfigured(m);
          break;
        case "ack":
          if (download.update({ reply: m })) break;
          if (m.state) setRunning(m.state.running);
          if (m.command === "set") error(null);
          break;
        case "metrics": onMetrics(m); break;
        case "error": if (!download.update({ reply: m })) onError(m); break;
        case "download": download.update({ progress: m }); break;
        case "lost":
          if (!state.lost) state.lost = { wasRunning: state.running };
          setRunning(false);
          showTrain();
          break;
        default: break;
      }
    },
    destroy() { clearInterval(timer); charts.loss.destroy(); charts.accuracy.destroy(); download.destroy(); settings.destroy(); },
  };
}
