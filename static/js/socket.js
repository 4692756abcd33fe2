// The only module that talks to the server: one WebSocket per tab, JSON text frames out,
// JSON text frames and binary array frames in (layout in docs/protocol.md).

const MAGIC = "NNP1";
const TYPED = { float32: Float32Array, uint8: Uint8Array, int32: Int32Array };

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

// Open the session socket. Handlers: onOpen(), onMessage(json), onFrame(decoded), onClose(event).
// It reconnects by itself after an unexpected close; onOpen runs again so the page can
// re-send its configuration.
export function connect({ path = "/ws/session", onOpen, onMessage, onFrame, onClose } = {}) {
  let ws = null;
  let closedByUs = false;
  let nextId = 1;
  let retryMs = 500;

  function open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${scheme}//${location.host}${path}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { retryMs = 500; onOpen?.(); };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") onMessage?.(JSON.parse(event.data));
      else onFrame?.(decodeFrame(event.data));
    };
    ws.onclose = (event) => {
      onClose?.(event);
      if (!closedByUs) { setTimeout(open, retryMs); retryMs = Math.min(retryMs * 2, 8000); }
    };
  }
  open();

  return {
    // Send a command; returns its id so replies can be matched.
    send(type, fields = {}) {
      const id = nextId++;
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type, id, ...fields }));
      return id;
    },
    get ready() { return ws.readyState === WebSocket.OPEN; },
    close() { closedByUs = true; ws.close(); },
  };
}

// POST JSON to a REST route and return the decoded answer; a non-2xx answer throws an Error
// carrying the server's message.
export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.detail?.message ?? data.detail ?? response.statusText), { data, status: response.status });
  return data;
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
