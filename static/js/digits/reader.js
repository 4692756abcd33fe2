// The Digits page's drawing pad and what the network reads in it: the guess, its certainty, the
// ten probabilities and the 28×28 image the network saw. The pretrained model reads over REST
// (POST /api/predict); the network training here reads through the session socket (`predict`).
// createReader(root, {socket, onReading(prediction | null)})
//   -> {update({reader, again, refresh, lost, reply}), destroy()}
//   reader: "pretrained" | "live"; again: forget the reading and read the drawing afresh;
//   refresh: read it again (the live network changed); lost: the socket closed, so a `predict`
//   in flight will never be answered; reply: a `prediction` or `error` message answering this
//   reader's `predict` (others are ignored)
import { postJSON } from "../socket.js";
import { createBars } from "../views/bars.js";
import { createDrawpad } from "../views/drawpad.js";
import { paintGrey } from "../views/grey.js";

const READ_INTERVAL_MS = 30;     // at most one reading per 30 ms while drawing
const SEND_SIDE = 112;           // the drawing is sent as 112×112 grey levels (see sendReading)
const SAY_AFTER_MS = 600;        // a screen reader hears the reading once it has held this long, not 30 times a second

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function createReader(root, { socket, onReading }) {
  const $ = (id) => root.querySelector(`#${id}`);
  let reader = "pretrained";
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
    const body = { width: grey.width, height: grey.height, pixels: base64(grey.pixels) };
    const revision = r.revision;
    r.inFlight = true;
    r.lastSent = performance.now();
    if (reader === "live") {
      r.predictId = socket.send("predict", body);
      r.predictRevision = revision;
      if (r.predictId === null) failed("offline", "");   // no server: said once it is back
      return;
    }
    postJSON("/api/predict", body)
      .then((answer) => done(reader === "pretrained" ? answer : null, revision))
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
    const { digit, probabilities } = answer;
    // every layer's activations, the 28×28 input first
    const activations = [Float32Array.from(answer.input28.flat()), ...answer.activations.map((a) => Float32Array.from(a))];
    guess.textContent = String(digit);
    guess.dataset.digit = String(digit);
    guess.classList.remove("empty");
    $("confidence").textContent = `${(100 * probabilities[digit]).toFixed(0)} % sure`;
    say(`The network reads ${digit}, ${(100 * probabilities[digit]).toFixed(0)} % sure.`);
    $("input28").setAttribute("aria-label", "The 28×28 image the network saw: the drawing, cropped, scaled and centred");
    bars.update({ probabilities });
    paintGrey($("input28"), activations[0]);
    onReading({ digit, probabilities, activations });
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
