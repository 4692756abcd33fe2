// The network graph's keyboard: its edge canvas takes the focus with Tab, the keys of netfocus.js
// move the focus over neurons and weights, a polite live region says what is focused, and Enter
// asks for the editor of its bias or weight; when the editor closes the focus comes back here.
// Focused with the mouse, the graph shows nothing until a key is pressed.
//
// createNetKeys(canvas, {state() -> {structure, geometry, arrays} | null, onShow(), onEdit(item)})
//   -> {shown() -> the focused item while it shows (also while its editor is open) | null,
//       editorClosed(value | null) -> bool, destroy()}
import { describe, fits, itemName, moveFocus } from "./netfocus.js";

const START = { layer: 0, neuron: 0 };

export function createNetKeys(canvas, { state, onShow, onEdit }) {
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");   // its arrow keys are its own, under a screen reader too
  const said = Object.assign(document.createElement("div"), { className: "net-said sr-only" });
  said.setAttribute("aria-live", "polite");
  canvas.after(said);
  const keys = { focus: START, active: false, editing: false };

  // The focused item, moved to the first input when the network lost it.
  function focused(sizes) {
    if (!fits(keys.focus, sizes)) keys.focus = START;
    return keys.focus;
  }

  function say(words = (s) => describe(focused(s.structure.sizes), s.structure, s.arrays)) {
    const s = state();
    if (s) said.textContent = words(s);
  }

  function onKey(event) {
    const s = state();
    if (!s || event.ctrlKey || event.metaKey || event.altKey) return;
    const item = focused(s.structure.sizes);
    const editable = item.from !== undefined || item.layer > 0;
    const next = event.key === "Enter" ? item : moveFocus(item, event, s.structure.sizes, s.geometry);
    if (!next) return;
    event.preventDefault();
    keys.focus = next;
    keys.active = true;
    if (event.key === "Enter" && editable && s.arrays) {
      keys.editing = true;
      onEdit(next);
    } else {
      say();
    }
    onShow();
  }

  function onFocus() {
    keys.editing = false;   // back from the editor, or from elsewhere
    if (!canvas.matches(":focus-visible") || !state()) return;
    keys.active = true;
    say();
    onShow();
  }

  function onBlur() {
    if (keys.editing || !keys.active) return;
    keys.active = false;
    onShow();
  }

  canvas.addEventListener("keydown", onKey);
  canvas.addEventListener("focus", onFocus);
  canvas.addEventListener("blur", onBlur);

  return {
    shown: () => (keys.active && state() ? focused(state().structure.sizes) : null),
    // The editor opened by Enter closed: the focus comes back, and the words say what happened.
    editorClosed(value) {
      if (!keys.editing) return false;
      keys.editing = false;
      canvas.focus();
      say(value === null ? (s) => `not changed: ${describe(keys.focus, s.structure, s.arrays)}`
        : (s) => `${itemName(keys.focus, s.structure)} set to ${value}`);
      onShow();
      return true;
    },
    destroy() {
      canvas.removeEventListener("keydown", onKey);
      canvas.removeEventListener("focus", onFocus);
      canvas.removeEventListener("blur", onBlur);
      said.remove();
    },
  };
}
