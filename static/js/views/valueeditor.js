// A small form over a view to type one number (a weight or a bias of the network view), inside
// the server's range: the browser refuses a value outside it and says why. Enter sets, Escape or
// × closes; onClose(target, value | null) hears of either (null when nothing was set).
// createValueEditor(container, {onSet(target, value), place(box, x, y), onClose})
//   -> {update({target, label, name, value, x, y, range}), close(), isOpen(), contains(node), destroy()}
// `label` is the short text shown beside the field; `name` (optional) what a screen reader hears.

export function createValueEditor(container, { onSet, place, onClose = () => {} }) {
  const form = document.createElement("form");
  form.className = "net-editor";
  form.hidden = true;
  form.innerHTML = `<label><span></span> <input type="number" step="any" required></label>
    <button type="submit">Set</button><button type="button" class="cancel" title="Cancel (Esc)" aria-label="Cancel">×</button>`;
  container.append(form);
  const input = form.querySelector("input");
  let target = null;

  const hide = () => { form.hidden = true; };
  const close = () => {
    if (form.hidden) return;
    hide();
    onClose(target, null);
  };
  function onSubmit(event) {
    event.preventDefault();
    const value = Number(input.value);
    hide();
    const set = target && Number.isFinite(value);
    if (set) onSet(target, value);
    onClose(target, set ? value : null);
  }
  const onKey = (event) => {
    if (event.key !== "Escape") return;
    event.stopPropagation();   // the editor's Escape, not the page's
    close();
  };
  form.addEventListener("submit", onSubmit);
  form.addEventListener("keydown", onKey);
  form.querySelector(".cancel").addEventListener("click", close);

  return {
    update({ target: next, label, name, value, x, y, range }) {
      target = next;
      form.hidden = false;
      form.querySelector("span").textContent = label;
      input.setAttribute("aria-label", name ?? label);
      if (range) Object.assign(input, { min: range.min, max: range.max, title: `from ${range.min} to ${range.max}` });
      input.value = (+value).toFixed(4);
      place(form, x, y);
      input.focus();
      input.select();
    },
    close,
    isOpen: () => !form.hidden,
    contains: (node) => form.contains(node),
    destroy() { form.remove(); },
  };
}
