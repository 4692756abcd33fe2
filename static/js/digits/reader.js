// The Digits page's drawing pad and what the network reads in it: the guess, its certainty, the
// ten probabilities and the 28×28 image the network saw. A pretrained model reads over REST
// (POST /api/predict); the network training here reads through the session socket (`predict`).
// Both answer with a binary `prediction` frame ("format": "frame"): every layer's activations as
// arrays, conv and pool maps as bytes (docs/protocol.md).
// createReader(root, {socket, reader, onReading(reading | null)})
//   -> {update({reader, again, refresh, lost, reply}), destroy()}
//   reading: {digit, probabilities, layers, activations: [input (784), a¹, …, aᴸ]}, each a Float32Array
//   with .shape (conv and pool maps (H, W, C) also keep their .bytes, .low and .scale);
//   reader: a pretrained model's name (schema.pretrained) or "live"; again: forget the reading and read the drawing afresh;
//   refresh: read it again (the live network changed); lost: the socket closed, so a `predict`
//   in flight will never be answered; reply: a `prediction` frame or an `error` message answering
//   this reader's `predict` (others are ignored)
import { postFrame } from "../socket.js";
import { createBars } from "../views/bars.js";
import { createDrawpad } from "../views/drawpad.js";
import { paintGrey } from "../views/grey.js";

const READ_INTERVAL_MS = 30;     // at most one reading per 30 ms while drawing
const SEND_SIDE = 112;           // the drawing is sent as 112×112 grey levels (see sendReading)
const SAY_AFTER_MS = 600;        // a screen reader hears the reading once it has held this long, not 30 times a second
// Below this size (the ink's longer side, pen included, of the 280 px pad) a finished drawing gets a
// hint to draw bigger. Drawn with the pad's 20 px pen, digits 40-60 px long (60-80 with the pen)
// read 91.9 % against 97.8 % at 110-250 px, and 60-80 px ones 97.4 % (the pretrained CNN, 2,000 test
// digits: python bench/drawn_digits.py --n 2000 --printed 0 --sizes 40 60 --pens 18 22, 2026-12-03).
const SMALL_DRAWING = 80;

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// The arrays of a prediction frame as one reading: quantised maps turned back into values.
export function readingOf(frame) {
  const values = (array) => {
    if (array.scale === undefined) return array;
    const v = Float32Array.from(array, (b) => array.low + b * array.scale);
    return Object.assign(v, { shape: array.shape, bytes: array, low: array.low, scale: array.scale });
  };
  const activations = [frame.arrays.input28, ...frame.layers.map((_, l) => values(frame.arrays[`a${l + 1}`]))];
  return { digit: frame.digit, probabilities: frame.probabilities, layers: frame.layers, activations };
}

export function createReader(root, { socket, reader: first, onReading }) {
  const $ = (id) => root.querySelector(`#${id}`);
  let reader = first;
  // the drawing's revision (bumped on every change) and the one request in flight
  const r = { inFlight: false, again: false, timer: 0, lastSent: 0, revision: 0, predictId: null, predictRevision: -1 };
  const pad = createDrawpad($("pad"), { size: 280, penWidth: 20, onChange: onDrawing });
  const bars = createBars($("bars"));
  let sayTimer = 0;

  // "The network reads 7, 98 % sure" in the aria-live region, once the reading holds still.
  function say(words) {
    clearTimeout(sayTimer);
    sayTimer = setTimeout(() => { if ($("reading-said").textContent !== words) $("reading-said").textContent = words; }, SAY_AFTER_MS);
  }

  function onDrawing() {
    r.revision++;
    $("pad-hint").hidden = !pad.empty;
    const small = !pad.empty && pad.extent < SMALL_DRAWING;
    if (!small) $("size-hint").hidden = true;
    else if (!pad.drawing) $("size-hint").hidden = false;   // not while the stroke is still growing
    if (pad.empty) { show(null); return; }
    request();
  }

  // Throttled: at most one request in flight and one per READ_INTERVAL_MS; when a reply comes
  // back the newest drawing is sent next.
  function request() {
    if (pad.empty) return;
    if (r.inFlight) { r.again = true; return; }
    const wait = r.lastSent + READ_INTERVAL_MS - performance.now();
    if (wait > 0) { if (!r.timer) r.timer = setTimeout(() => { r.timer = 0; request(); }, wait); return; }
    send();
  }

  // The drawing goes out as grey levels (255 = ink) at 112×112, base64 (the `pixels` form of
  // POST /api/predict), not as a PNG data URL: the server turns it into the 28×28 input in
  // 0.12 ms instead of 3.3 ms for decoding a 280×280 PNG (it is read ~30 times a second while
  // drawing, on a shared server), for 17 kB instead of 12 kB on the wire. The server crops the
  // ink and scales it to 20×20, so the smaller side changes the input by less than the ½-pixel
  // centring does.
  function send() {
    const grey = pad.grey(SEND_SIDE);
    const body = { width: grey.width, height: grey.height, pixels: base64(grey.pixels), format: "frame" };
    const revision = r.revision;
    r.inFlight = true;
    r.lastSent = performance.now();
    if (reader === "live") {
      r.predictId = socket.send("predict", body);
      r.predictRevision = revision;
      if (r.predictId === null) failed("offline", "");   // no server: said once it is back
      return;
    }
    const model = reader;
    postFrame("/api/predict", { ...body, model })
      .then((answer) => done(reader === model ? answer : null, revision))
      .catch((error) => failed(error.offline ? "offline" : error.data?.detail?.code, error.message));
  }

  function done(answer, revision) {
    r.inFlight = false;
    r.predictId = null;
    $("predict-error").hidden = true;
    if (answer && revision === r.revision && !pad.empty) show(answer);
    if (r.again) { r.again = false; request(); }
  }

  function failed(code, message) {
    r.inFlight = false;
    r.predictId = null;
    const words = {
      offline: "The server cannot be reached right now: the drawing will be read again once it is back.",
      model_missing: "The pretrained model is not available on this server yet: train a network below and let it read.",
    };
    if (code !== "no_ink") {
      $("predict-error").hidden = false;
      $("predict-error").textContent = words[code] ?? `The drawing could not be read: ${message}`;
    }
    if (r.again) { r.again = false; request(); }
  }

  // Show a reading (the body of a `prediction`), or nothing (null) for an empty pad.
  function show(answer) {
    const guess = $("guess");
    if (!answer) {
      guess.textContent = "draw a digit";
      guess.dataset.digit = "";
      guess.classList.add("empty");
      $("confidence").textContent = "";
      bars.update({ probabilities: null });
      paintGrey($("input28"), null);
      $("input28").setAttribute("aria-label", "The 28×28 image the network saw: empty");
      say(pad.empty ? "The pad is empty." : "");
      onReading(null);
      return;
    }
    const reading = readingOf(answer);
    const { digit, probabilities, activations } = reading;
    guess.textContent = String(digit);
    guess.dataset.digit = String(digit);
    guess.classList.remove("empty");
    $("confidence").textContent = `${(100 * probabilities[digit]).toFixed(0)} % sure`;
    say(`The network reads ${digit}, ${(100 * probabilities[digit]).toFixed(0)} % sure.`);
    $("input28").setAttribute("aria-label", "The 28×28 image the network saw: the drawing, cropped, scaled and centred");
    bars.update({ probabilities });
    paintGrey($("input28"), activations[0]);
    onReading(reading);
  }

  // Forget the reading shown (another network made it) and read the drawing afresh.
  function readAgain() {
    r.revision++;
    show(null);
    if (r.inFlight) r.again = true; else request();
  }

  const clear = () => pad.clear();
  const undo = () => pad.undo();
  function onKey(event) {
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === "Escape") pad.clear();
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); pad.undo(); }
  }
  $("clear").addEventListener("click", clear);
  $("undo").addEventListener("click", undo);
  document.addEventListener("keydown", onKey);
  show(null);

  return {
    update({ reader: next, again, refresh, lost, reply }) {
      if (reply) {
        if (reply.id === undefined || reply.id !== r.predictId) return;
        if (reply.type === "prediction") done(reader === "live" ? reply : null, r.predictRevision);
        else failed(reply.code, reply.message);
        return;
      }
      if (lost && r.predictId !== null) done(null, -1);
      if (next !== undefined) reader = next;
      if (next !== undefined || again) readAgain();
      else if (refresh) request();
    },
    destroy() {
      $("clear").removeEventListener("click", clear);
      $("undo").removeEventListener("click", undo);
      document.removeEventListener("keydown", onKey);
      clearTimeout(sayTimer);
      pad.destroy?.();
      bars.destroy?.();
    },
  };
}
