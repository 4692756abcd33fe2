// The connection banner under the top bar: says plainly when the server cannot be reached, that
// the page keeps trying (and when next), and what happened when it is back. Also colours the
// small dot in the top bar.
// createConnectionBanner(element, {dot, onRetry}) -> {update({status, text}), destroy()}
//   status: "open" (banner hidden, or showing `text` for a few seconds), "lost" (banner stays)

const NOTE_MS = 8000;   // how long "reconnected ..." stays up
const CLOSED_BY_SERVER = {   // WebSocket close codes the server uses (docs/protocol.md)
  1001: "The server closed this session after a long time without activity.",
  1008: "The server refused this page's connection (it does not accept this page's origin).",
  1013: "The server is busy: it already runs as many training sessions as it allows.",
};

// What to say when the socket closed: why, what it means for `what` (e.g. "The run is paused"),
// and when the page tries again (retryMs null: it does not).
export function lostWords(event, retryMs, what) {
  const why = CLOSED_BY_SERVER[event?.code] ?? "The connection to the server was lost (the server stopped, or the network dropped).";
  const retry = retryMs === null ? "" : ` Trying again in ${(retryMs / 1000).toFixed(1)} s…`;
  return `${why} ${what}${retry}`;
}

export function createConnectionBanner(element, { dot = null, onRetry = null } = {}) {
  const text = Object.assign(document.createElement("span"), { className: "banner-text" });
  const retry = Object.assign(document.createElement("button"), { type: "button", textContent: "Retry now" });
  if (onRetry) retry.addEventListener("click", onRetry);
  element.append(text, retry);
  element.hidden = true;
  let timer = 0;

  return {
    update({ status, text: words = "" }) {
      clearTimeout(timer);
      const lost = status === "lost";
      dot?.classList.toggle("open", !lost);
      dot?.classList.toggle("closed", lost);
      const says = lost ? "Connection to the server: lost, trying again" : "Connection to the server: connected";
      dot?.setAttribute("title", says);
      dot?.setAttribute("aria-label", says);
      element.classList.toggle("lost", lost);
      element.dataset.status = status;
      text.textContent = words;
      retry.hidden = !lost || !onRetry;
      element.hidden = !words;
      if (!lost && words) timer = setTimeout(() => { element.hidden = true; }, NOTE_MS);
    },
    destroy() { clearTimeout(timer); element.replaceChildren(); element.hidden = true; },
  };
}
