// The only module that talks to the server: one WebSocket per tab, JSON text frames out,
// JSON text frames and binary array frames in (layout in docs/protocol.md), and the REST helpers.

const MAGIC = "NNP1";
const TYPED = { float32: Float32Array, uint8: Uint8Array, int32: Int32Array };
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 8000;

// Decode one binary frame into {type, ...header, arrays: {name: TypedArray}}.
// Each array carries .shape, and quantised uint8 arrays also carry .scale and .low
// (value = low + byte * scale).
export function decodeFrame(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== MAGIC) throw new Error(`not an nnplay frame (magic ${JSON.stringify(magic)})`);
  const headerLength = new DataView(buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const payload = 8 + Math.ceil(headerLength / 4) * 4;
  const arrays = {};
  for (const d of header.arrays) {
    const Typed = TYPED[d.dtype];
    const count = d.shape.reduce((a, b) => a * b, 1);
    const array = new Typed(buffer, payload + d.offset, count);
    array.shape = d.shape;
    if (d.scale !== undefined) { array.scale = d.scale; array.low = d.low; }
    arrays[d.name] = array;
  }
  return { ...header, arrays };
}

// The values of a decoded array: a quantised uint8 array as a Float32Array (value = low + byte ·
// scale) with its .shape, any other array as it is; null for a missing one.
export function dequantised(array) {
  if (!array || array.scale === undefined) return array ?? null;
  return Object.assign(Float32Array.from(array, (b) => array.low + b * array.scale), { shape: array.shape });
}

// Open the session socket. Handlers: onOpen(), onMessage(json), onFrame(decoded),
// onClose(event, retryInMs). After an unexpected close it reconnects by itself, first after
// 0.5 s, then waiting twice as long each time up to 8 s. When the server's hello gave a resume
// token, the reconnection asks for the same session back (`/ws/session?resume=<token>`); the
// next hello says whether it was (`resumed: true`) or a fresh session was opened.
export function connect({ path = "/ws/session", onOpen, onMessage, onFrame, onClose } = {}) {
  let ws = null;
  let closedByUs = false;
  let nextId = 1;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer = 0;
  let resumeToken = null;

  function open() {
    retryTimer = 0;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = resumeToken ? `?resume=${encodeURIComponent(resumeToken)}` : "";
    ws = new WebSocket(`${scheme}//${location.host}${path}${query}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { retryMs = FIRST_RETRY_MS; onOpen?.(); };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") { onFrame?.(decodeFrame(event.data)); return; }
      const message = JSON.parse(event.data);
      if (message.type === "hello") resumeToken = message.resume?.token ?? null;
      onMessage?.(message);
    };
    ws.onclose = (event) => {
      if (closedByUs) { onClose?.(event, null); return; }
      const wait = retryMs;
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      retryTimer = setTimeout(open, wait);
      onClose?.(event, wait);
    };
  }
  open();

  return {
    // Send a command; returns its id so replies can be matched (null when the socket is not open).
    send(type, fields = {}) {
      if (ws.readyState !== WebSocket.OPEN) return null;
      const id = nextId++;
      ws.send(JSON.stringify({ type, id, ...fields }));
      return id;
    },
    get ready() { return ws.readyState === WebSocket.OPEN; },
    // Reconnect now instead of waiting for the next try.
    retryNow() {
      if (!retryTimer) return;
      clearTimeout(retryTimer);
      open();
    },
    close() { closedByUs = true; clearTimeout(retryTimer); ws.close(); },
  };
}

// POST JSON to a REST route. A non-2xx answer throws an Error carrying the server's message and
// its `detail` ({code, message, field}); a server that cannot be reached throws one with
// `offline: true`. Returns the response of a 2xx answer.
async function post(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  } catch (error) {
    throw Object.assign(new Error("the server cannot be reached"), { offline: true, cause: error });
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    throw Object.assign(new Error(data.detail?.message ?? data.detail ?? response.statusText), { data, status: response.status });
  }
  return response;
}

// POST JSON to a route that answers with a binary frame (e.g. /api/predict with "format": "frame")
// and decode it; errors come back as JSON (see post).
export async function postFrame(url, body) {
  return decodeFrame(await (await post(url, body)).arrayBuffer());
}

export async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

// GET a binary frame (the layout above) and decode it.
export async function getFrame(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return decodeFrame(await response.arrayBuffer());
}
