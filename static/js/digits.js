// The Digits page: draw a digit and watch a network read it, layer by layer; train an MNIST
// network live on the same page and let it read the drawing instead.
// All page state lives in the one object made by init(); the views only draw what they are given.
import { connect, getFrame, postJSON } from "./socket.js";
import { encodeConfig, decodeConfig } from "./urlstate.js";
import { createDrawpad } from "./views/drawpad.js";
import { createBars } from "./views/bars.js";
import { createDigitNet, neuronImage } from "./views/digitnet.js";
import { createWeightGrid, imageValues, maxAbs, paintDiverging } from "./views/weightgrid.js";
import { createConfusion } from "./views/confusion.js";
import { createChart } from "./views/chart.js";

const READ_INTERVAL_MS = 30;     // at most one reading per 30 ms while drawing
const LIVE_REREAD_MS = 250;      // while training, the live network re-reads the drawing this often
const LIVE_VIEW_MS = 100;        // and its network view follows the snapshots at most this often
const SEND_SIDE = 112;           // the drawing is sent as 112×112 grey levels (see sendReading)
const TARGET_ACCURACY = 0.97;
const PRETRAINED_WEIGHTS = "/api/models/pretrained/weights";
const PRETRAINED_SHAPE = { sizes: [784, 128, 64, 10], activations: ["relu", "relu", "softmax"] }; // until it loads
const RATE_WINDOW_MS = 2000;
const TRAIN_FIELDS = ["hidden", "activation", "optimizer", "learning_rate", "batch_size", "mnist_train_size"];
const LIVE_FIELDS = new Set(["learning_rate", "batch_size"]); // changed with `set`, no restart
const FALLBACK_PRESET = { hidden: [128, 64], activation: "relu", output: "softmax", loss: "cross_entropy",
  init: "he", optimizer: "adam", learning_rate: 0.001, batch_size: 64, mnist_train_size: 60000 };

const $ = (id) => document.getElementById(id);

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function formatCount(n) {
  return n >= 1e4 ? `${Math.round(n / 1000)}k` : String(Math.round(n));
}

function formatBytes(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;
}

function formatSeconds(s) {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function init() {
  const state = {
    socket: null,
    hello: null,
    config: null,          // the session's configuration, as the server confirmed it
    network: null,         // the session's {sizes, activations}
    running: false,
    settingsTouched: false, // the user changed a setting: the server's preset must not overwrite it
    reader: "pretrained",  // which network reads the drawing: "pretrained" or "live"
    pretrained: null,      // {sizes, activations, weights: [Float32Array per layer] | null}
    live: { weights: null, shownAt: 0 }, // the session network's weights (W1 rebuilt from weights_img)
    // the drawing's revision (bumped on every change) and the one request in flight
    reading: { inFlight: false, again: false, timer: 0, lastSent: 0, revision: 0, predictId: null, predictRevision: -1 },
    reread: 0,             // timer of the live network's periodic re-read
    prediction: null,      // the newest reading shown
    selected: null,        // {layer, index}
    run: { startedAt: null, trainedMs: 0, resumedAt: null, reachedAt: null, configureThenPlay: false },
    arrivals: { metrics: [], weights: [] },
    downloadId: null,
  };

  const views = {
    pad: createDrawpad($("pad"), { size: 280, penWidth: 20, onChange: onDrawing }),
    bars: createBars($("bars")),
    net: createDigitNet($("net"), { height: 380, onSelect: select }),
    weights: null, // made when the first weight images arrive
    confusion: createConfusion($("confusion"), { galleryElement: $("gallery") }),
    loss: createChart($("loss-chart"), { height: 110, series: [
      { key: "train_loss", label: "train", color: "#f59322" },
      { key: "test_loss", label: "test", color: "#0877bd" }] }),
    accuracy: createChart($("accuracy-chart"), { height: 110, yMax: 1, format: (v) => `${(100 * v).toFixed(1)}%`, series: [
      { key: "train_accuracy", label: "train", color: "#f59322" },
      { key: "test_accuracy", label: "test", color: "#0877bd" }] }),
  };

  // -- reading the drawing ------------------------------------------------------------------
  function onDrawing(pad) {
    state.reading.revision++;
    $("pad-hint").hidden = !pad.empty;
    if (pad.empty) { showReading(null); return; }
    requestReading();
  }

  // Throttled: at most one request in flight and one per READ_INTERVAL_MS; when a reply comes
  // back the newest drawing is sent next.
  function requestReading() {
    const r = state.reading;
    if (views.pad.empty) return;
    if (r.inFlight) { r.again = true; return; }
    const wait = r.lastSent + READ_INTERVAL_MS - performance.now();
    if (wait > 0) { if (!r.timer) r.timer = setTimeout(() => { r.timer = 0; requestReading(); }, wait); return; }
    sendReading();
  }

  // The drawing goes out as grey levels (255 = ink) at 112×112, base64 (the `pixels` form of
  // POST /api/predict), not as a PNG data URL: the server turns it into the 28×28 input in
  // 0.12 ms instead of 3.3 ms for decoding a 280×280 PNG (it is read ~30 times a second while
  // drawing, on a shared server), for 17 kB instead of 12 kB on the wire. The server crops the
  // ink and scales it to 20×20, so the smaller side changes the input by less than the ½-pixel
  // centring does.
  function sendReading() {
    const r = state.reading;
    const grey = views.pad.grey(SEND_SIDE);
    const body = { width: grey.width, height: grey.height, pixels: base64(grey.pixels) };
    const revision = r.revision;
    r.inFlight = true;
    r.lastSent = performance.now();
    if (state.reader === "live" && state.socket?.ready) {
      r.predictId = state.socket.send("predict", body);
      r.predictRevision = revision;
      return;
    }
    postJSON("/api/predict", body)
      .then((answer) => { if (state.reader === "pretrained") readingDone(answer, revision); else readingDone(null, -1); })
      .catch((error) => readingFailed(error.data?.detail?.code, error.message));
  }

  function readingDone(answer, revision) {
    const r = state.reading;
    r.inFlight = false;
    r.predictId = null;
    $("predict-error").hidden = true;
    if (answer && revision === r.revision && !views.pad.empty) showReading(answer);
    if (r.again) { r.again = false; requestReading(); }
  }

  function readingFailed(code, message) {
    const r = state.reading;
    r.inFlight = false;
    r.predictId = null;
    if (code !== "no_ink") {
      $("predict-error").hidden = false;
      $("predict-error").textContent = code === "model_missing"
        ? "The pretrained model is not available on this server yet: train a network below and let it read."
        : `Could not read the drawing: ${message}`;
    }
    if (r.again) { r.again = false; requestReading(); }
  }

  // Show a reading (the body of a `prediction`), or nothing (null) for an empty pad.
  function showReading(answer) {
    const guess = $("guess");
    state.prediction = null;
    if (!answer) {
      guess.textContent = "draw a digit";
      guess.dataset.digit = "";
      guess.classList.add("empty");
      $("confidence").textContent = "";
      views.bars.update({ probabilities: null });
      paintInput28(null);
      views.net.update({ activations: null });
      showNeuron();
      return;
    }
    const { digit, probabilities } = answer;
    // every layer's activations, the 28×28 input first
    const activations = [Float32Array.from(answer.input28.flat()), ...answer.activations.map((a) => Float32Array.from(a))];
    state.prediction = { digit, probabilities, activations };
    guess.textContent = String(digit);
    guess.dataset.digit = String(digit);
    guess.classList.remove("empty");
    $("confidence").textContent = `${(100 * probabilities[digit]).toFixed(0)} % sure`;
    views.bars.update({ probabilities });
    paintInput28(activations[0]);
    views.net.update({ activations });
    showNeuron();
  }

  function paintInput28(x) {
    const ctx = $("input28").getContext("2d");
    const img = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = x ? Math.round(255 * x[i]) : 0;
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  // -- which network reads, and what the network view shows --------------------------------
  function showNetwork() {
    const live = state.reader === "live";
    const source = live ? state.network : state.pretrained;
    $("net-source").textContent = live ? "· the network training here" : "· the pretrained model";
    if (!source) return;
    views.net.update({
      sizes: source.sizes,
      activationNames: source.activations,
      weights: live ? state.live.weights : source.weights,
      selected: state.selected,
    });
    showNeuron();
  }

  function setReader(reader) {
    state.reader = reader;
    for (const input of document.querySelectorAll("input[name=reader]")) input.checked = input.value === reader;
    state.selected = null;
    views.weights?.update({ selected: null });
    clearInterval(state.reread);
    if (reader === "live") state.reread = setInterval(() => { if (state.running) requestReading(); }, LIVE_REREAD_MS);
    readAgain();
  }

  // Forget the reading shown (another network made it) and read the drawing afresh.
  function readAgain() {
    state.reading.revision++;
    showReading(null);
    showNetwork();
    if (state.reading.inFlight) state.reading.again = true; else requestReading();
  }

  // The pretrained model's weights for the network view: a binary frame with W1 … WL.
  // Without them the view shows the activations but no edges.
  async function loadPretrained() {
    try {
      const frame = await getFrame(PRETRAINED_WEIGHTS);
      const L = frame.sizes.length - 1;
      const weights = Array.from({ length: L }, (_, l) => frame.arrays[`W${l + 1}`] ?? null);
      state.pretrained = { sizes: frame.sizes, activations: frame.activations, weights };
    } catch {
      state.pretrained = { ...PRETRAINED_SHAPE, weights: null };
    }
    if (state.reader === "pretrained") showNetwork();
  }

  function select(target) {
    state.selected = target;
    views.weights?.update({ selected: state.reader === "live" && target.layer === 1 ? target.index : null });
    showNetwork();
  }

  // The weight images belong to the network training here: show its neuron j.
  function selectWeightImage(j) {
    if (state.reader !== "live") setReader("live");
    select({ layer: 1, index: j });
  }

  // "What this neuron looks for": its incoming weights drawn as a 28×28 image.
  function showNeuron() {
    const target = state.selected;
    const live = state.reader === "live";
    const source = live ? state.network : state.pretrained;
    const weights = live ? state.live.weights : source?.weights;
    const ctx = $("neuron-image").getContext("2d"), inputCtx = $("neuron-input").getContext("2d");
    ctx.clearRect(0, 0, 28, 28);
    inputCtx.clearRect(0, 0, 28, 28);
    if (!target || !source) {
      $("neuron-title").textContent = "What does a neuron look for?";
      $("neuron-text").textContent = "Click any neuron in the network above, or a weight image below, to see the picture of its incoming weights.";
      return;
    }
    const L = source.sizes.length - 1;
    const name = target.layer === L ? `Output ${target.index}` : `Layer ${target.layer}, neuron ${target.index}`;
    const a = state.prediction?.activations[target.layer]?.[target.index];
    $("neuron-title").textContent = a === undefined ? name : `${name} · activation ${a.toFixed(3)}`;
    if (!weights || weights.slice(0, target.layer).some((W) => !W)) {
      $("neuron-text").textContent = "Its weights are not available from the server for this model yet.";
      return;
    }
    const values = neuronImage(source.sizes, weights, target.layer, target.index);
    paintValues(ctx, values);
    const x = state.prediction?.activations[0];
    if (x) paintValues(inputCtx, values.map((w, i) => w * x[i])); // which pixels of the drawing push it up or down
    $("neuron-text").textContent = target.layer === 1
      ? "Its 784 incoming weights as a picture: ink on orange pixels excites it, ink on blue pixels inhibits it."
      : `Its incoming weights traced back through the ${target.layer - 1} layer${target.layer > 2 ? "s" : ""} below to the pixels (W¹${target.layer > 2 ? "⋯" : ""}W${"²³⁴⁵⁶⁷⁸⁹"[target.layer - 2] ?? ""} column ${target.index}, ignoring the nonlinearities): a rough picture of what excites it.`;
  }

  function paintValues(ctx, values) {
    const img = ctx.createImageData(28, 28);
    paintDiverging(img, values, 28, 28, 0, 0, maxAbs(values));
    ctx.putImageData(img, 0, 0);
  }

  // -- training ------------------------------------------------------------------------------
  function readSettings() {
    const form = $("settings");
    const hidden = form.hidden.value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
    return {
      hidden,
      activation: form.activation.value,
      optimizer: form.optimizer.value,
      learning_rate: Number(form.learning_rate.value),
      batch_size: Number(form.batch_size.value),
      mnist_train_size: Number(form.mnist_train_size.value),
    };
  }

  function writeSettings(config) {
    const form = $("settings");
    for (const field of TRAIN_FIELDS) {
      if (config[field] === undefined) continue;
      const value = field === "hidden" ? config.hidden.join(", ") : String(config[field]);
      const input = form.elements[field];
      if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === value)) input.add(new Option(value, value));
      input.value = value;
    }
    const sizes = [784, ...(config.hidden ?? []), 10];
    $("architecture").textContent = `${sizes.join("–")} · softmax output`;
  }

  function fullConfig() {
    return { ...mnistPreset(), dataset: "mnist", output: "softmax", loss: "cross_entropy", ...readSettings() };
  }

  // The server's `mnist` preset config (docs: hello.presets), else the page's own defaults.
  function mnistPreset() {
    return state.hello?.presets?.mnist?.config ?? FALLBACK_PRESET;
  }

  function configure(thenPlay) {
    const config = fullConfig();
    const bad = config.hidden.find((n) => !Number.isInteger(n) || n < 1);
    if (bad !== undefined || !config.hidden.length) {
      trainError(`Hidden layers "${$("settings").hidden.value}" is invalid: give widths like "128, 64" (whole numbers ≥ 1).`);
      return;
    }
    state.run.configureThenPlay = thenPlay;
    state.socket.send("configure", { config });
    keepInUrl(config);
  }

  // The settings in the address, so a link or a reload brings them back.
  function keepInUrl(settings) {
    history.replaceState(null, "", `?${encodeConfig(Object.fromEntries(TRAIN_FIELDS.map((k) => [k, settings[k]])))}`);
  }

  // The session's network is built (paused) as soon as the page connects, so its untrained
  // weights, accuracy and guesses are there to compare with; Train only starts the worker.
  function onTrain() {
    if (!state.socket?.ready || !state.config) return;
    if (state.running) { state.socket.send("pause"); return; }
    if (state.run.startedAt === null) { state.run.startedAt = performance.now(); state.run.reachedAt = null; }
    if (settingsChanged()) configure(true);
    else state.socket.send("play");
  }

  function settingsChanged() {
    const now = readSettings();
    return TRAIN_FIELDS.some((k) => !LIVE_FIELDS.has(k) && String(now[k]) !== String(state.config[k]));
  }

  function onSettingChange(event) {
    state.settingsTouched = true;
    writeSettings(readSettings());
    if (!state.config) return;
    const field = event.target.name;
    if (LIVE_FIELDS.has(field)) { state.socket.send("set", { [field]: readSettings()[field] }); keepInUrl(readSettings()); }
    else if (settingsChanged()) { resetCounters(state.running); configure(state.running); }
  }

  // A new network: clocks, charts and test results start over; `training` when it trains on at once.
  function resetCounters(training) {
    const now = training ? performance.now() : null;
    state.run = { startedAt: now, trainedMs: 0, resumedAt: now, reachedAt: null, configureThenPlay: false };
    views.loss.clear();
    views.accuracy.clear();
    views.confusion.update(null);
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
  }

  function trainedSeconds() {
    const r = state.run;
    return (r.trainedMs + (r.resumedAt !== null ? performance.now() - r.resumedAt : 0)) / 1000;
  }

  function countArrival(kind) {
    const now = performance.now(), list = state.arrivals[kind];
    list.push(now);
    while (list.length && list[0] < now - RATE_WINDOW_MS) list.shift();
  }

  function rate(kind) {
    const list = state.arrivals[kind], now = performance.now();
    while (list.length && list[0] < now - RATE_WINDOW_MS) list.shift();
    return list.length / (RATE_WINDOW_MS / 1000);
  }

  function showRates() {
    $("rates").textContent = state.running || rate("metrics") > 0
      ? `updates: metrics ${rate("metrics").toFixed(0)}/s · weight images ${rate("weights").toFixed(0)}/s`
      : "";
    if (state.running) $("elapsed").textContent = formatSeconds(trainedSeconds());
  }

  function onMetrics(m) {
    countArrival("metrics");
    const x = m.step;
    views.loss.update({ x, values: { train_loss: m.train_loss, test_loss: m.test_loss } });
    views.accuracy.update({ x, values: { train_accuracy: m.train_accuracy, test_accuracy: m.test_accuracy } });
    $("epoch").textContent = String(m.epoch);
    $("accuracy").textContent = m.test_accuracy === null || m.test_accuracy === undefined ? "–" : `${(100 * m.test_accuracy).toFixed(1)} %`;
    $("speed").textContent = m.samples_per_second ? formatCount(m.samples_per_second) : "–";
    $("elapsed").textContent = formatSeconds(trainedSeconds());
    if (m.running !== undefined) setRunning(m.running);
    if (state.run.reachedAt === null && state.run.startedAt !== null && m.test_accuracy >= TARGET_ACCURACY) {
      state.run.reachedAt = performance.now();
      const seconds = (state.run.reachedAt - state.run.startedAt) / 1000;
      $("milestone").textContent = `${Math.round(100 * TARGET_ACCURACY)} % reached ${seconds.toFixed(1)} s after pressing Train`;
      $("milestone").dataset.seconds = seconds.toFixed(2);
    }
  }

  function onSnapshot(frame) {
    const { arrays } = frame;
    const sizes = state.network?.sizes;
    if (!sizes) return;
    const L = sizes.length - 1;
    const weights = state.live.weights ?? new Array(L).fill(null);
    for (let l = 2; l <= L; l++) if (arrays[`W${l}`]) weights[l - 1] = arrays[`W${l}`];
    if (arrays.W1) weights[0] = arrays.W1;
    if (arrays.weights_img) {
      countArrival("weights");
      const images = arrays.weights_img;
      const [n1] = images.shape, W1 = new Float32Array(784 * n1);
      for (let j = 0; j < n1; j++) {
        const column = imageValues(images, j);
        for (let i = 0; i < 784; i++) W1[i * n1 + j] = column[i];
      }
      weights[0] = W1;
      if (!views.weights) {
        $("weights").replaceChildren();
        views.weights = createWeightGrid($("weights"), { columns: 16, onSelect: selectWeightImage });
      }
      views.weights.update({ images });
    }
    state.live.weights = weights;
    const now = performance.now();
    if (state.reader === "live" && (arrays.weights_img || now - state.live.shownAt >= LIVE_VIEW_MS)) {
      state.live.shownAt = now;
      showNetwork();
    }
  }

  function onEvaluation(frame) {
    views.confusion.update({
      confusion: frame.arrays.confusion,
      gallery: frame.arrays.gallery,
      labels: frame.gallery_labels ?? [],
      predicted: frame.gallery_predicted ?? [],
    });
  }

  function trainError(text) {
    $("train-error").hidden = !text;
    $("train-error").textContent = text ?? "";
  }

  // -- MNIST on disk: the first configure answers mnist_missing when it is not -------------
  function mnistMissing() {
    $("mnist-missing").hidden = false;
    $("train").disabled = true;
  }

  function onDownload() {
    $("download").disabled = true;
    $("download-progress").hidden = false;
    state.downloadId = state.socket.send("download_mnist");
  }

  function onDownloadProgress(m) {
    const fraction = m.total ? m.done / m.total : 0;
    $("download-progress").querySelector(".dg-progress-fill").style.width = `${(100 * fraction).toFixed(1)}%`;
    $("download-progress").querySelector(".dg-progress-text").textContent =
      `${m.file}: ${formatBytes(m.done)} of ${formatBytes(m.total)}`;
  }

  // -- the socket ----------------------------------------------------------------------------
  function onMessage(m) {
    switch (m.type) {
      case "hello": {
        state.hello = m;
        if (!state.settingsTouched) writeSettings({ ...mnistPreset(), ...decodeConfig() });
        configure(false); // also after a reconnect: the new session needs the network again
        break;
      }
      case "configured":
        state.config = m.config;
        state.network = m.network;
        state.live.weights = null;
        trainError(null);
        $("mnist-missing").hidden = true;
        $("train").disabled = false;
        $("reset").disabled = false;
        document.querySelector("input[name=reader][value=live]").disabled = false;
        if (state.reader === "live") { state.selected = null; views.weights?.update({ selected: null }); readAgain(); }
        if (state.run.configureThenPlay) { state.run.configureThenPlay = false; state.socket.send("play"); }
        break;
      case "ack":
        if (m.state) setRunning(m.state.running);
        if (m.command === "download_mnist") { $("download-progress").hidden = true; configure(false); }
        break;
      case "metrics": onMetrics(m); break;
      case "prediction":
        if (m.id === state.reading.predictId) readingDone(state.reader === "live" ? m : null, state.reading.predictRevision);
        break;
      case "download": onDownloadProgress(m); break;
      case "error": onError(m); break;
      default: break;
    }
  }

  function onError(m) {
    if (m.id !== undefined && m.id === state.reading.predictId) { readingFailed(m.code, m.message); return; }
    if (m.id !== undefined && m.id === state.downloadId) { // the download failed: offer it again
      $("download").disabled = false;
      $("download-progress").hidden = true;
      trainError(m.message);
      return;
    }
    if (m.code === "mnist_missing") { mnistMissing(); setRunning(false); return; }
    if (m.code === "diverged" || m.code === "internal") setRunning(false);
    trainError(m.code === "diverged" ? `${m.message} Try a smaller learning rate, then Reset.` : m.message);
  }

  function onFrame(frame) {
    if (frame.type === "snapshot") onSnapshot(frame);
    else if (frame.type === "evaluation") onEvaluation(frame);
  }

  // -- wiring ----------------------------------------------------------------------------------
  $("clear").addEventListener("click", () => views.pad.clear());
  $("undo").addEventListener("click", () => views.pad.undo());
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === "Escape") views.pad.clear();
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); views.pad.undo(); }
  });
  for (const input of document.querySelectorAll("input[name=reader]")) {
    input.addEventListener("change", () => setReader(input.value));
  }
  $("train").addEventListener("click", onTrain);
  $("reset").addEventListener("click", () => { resetCounters(false); state.socket.send("reset"); });
  $("settings").addEventListener("change", onSettingChange);
  $("settings").addEventListener("submit", (event) => event.preventDefault());
  $("download").addEventListener("click", onDownload);

  state.socket = connect({
    onOpen: () => { $("connection").className = "connection open"; },
    onClose: () => {
      $("connection").className = "connection closed";
      setRunning(false);
      if (state.reading.predictId !== null) readingDone(null, -1); // its reply will never come
    },
    onMessage,
    onFrame,
  });
  setInterval(showRates, 500);

  writeSettings({ ...FALLBACK_PRESET, ...decodeConfig() });
  showReading(null);
  showNetwork();
  loadPretrained();
  return state;
}

init();
