// A list of messages above a page's views, one per key: a newer message with the same key
// replaces the older. Each has a kind ("error", "hint", "note"), a sentence, buttons, and
// optionally details hidden behind a "details" toggle (for the raw text a person may need to
// report, never instead of the sentence).
// createMessages(element) -> {update({key, kind, text, actions: [{label, onClick}], details}),
//                             clear(key), has(key), destroy()}

export function createMessages(element) {
  function clear(key) {
    element.querySelector(`[data-key="${key}"]`)?.remove();
  }

  function update({ key, kind = "error", text, actions = [], details = null }) {
    const old = element.querySelector(`[data-key="${key}"]`);
    const div = document.createElement("div");
    div.className = `message ${kind}`;
    div.dataset.key = key;
    div.append(Object.assign(document.createElement("span"), { className: "message-text", textContent: text }));
    for (const { label, onClick } of actions) {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
      button.addEventListener("click", onClick);
      div.append(button);
    }
    if (details) {
      const more = document.createElement("details");
      more.append(Object.assign(document.createElement("summary"), { textContent: "details" }),
        Object.assign(document.createElement("pre"), { textContent: details }));
      div.append(more);
    }
    const close = Object.assign(document.createElement("button"), { type: "button", className: "close", textContent: "×", title: "dismiss" });
    close.addEventListener("click", () => div.remove());
    div.append(close);
    if (old) old.replaceWith(div); else element.append(div);
    return div;
  }

  return {
    update,
    clear,
    has: (key) => element.querySelector(`[data-key="${key}"]`) !== null,
    destroy() { element.replaceChildren(); },
  };
}
