// The connection banner under the top bar: says plainly when the server cannot be reached, that
// the page keeps trying (and when next), and what happened when it is back. Also colours the
// small dot in the top bar.
// createConnectionBanner(element, {dot, onRetry}) -> {update({status, text}), destroy()}
//   status: "open" (banner hidden, or showing `text` for a few seconds), "lost" (banner stays)

const NOTE_MS = 8000;   // how long "reconnected ..." stays up

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
