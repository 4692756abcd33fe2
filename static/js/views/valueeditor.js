// A small form over a view to type one number (a weight or a bias of the network view), inside
// the server's range: the browser refuses a value outside it and says why. Enter sets, Escape or
// × closes. createValueEditor(container, {onSet(target, value), place(box, x, y)})
//   -> {update({target, label, value, x, y, range}), close(), contains(node), destroy()}

export function createValueEditor(container, { onSet, place }) {
  const form = document.createElement("form");
  form.className = "net-editor";
  form.hidden = true;
  form.innerHTML = `<label><span></span> <input type="number" step="any" required></label>
    <button type="submit">Set</button><button type="button" class="cancel">×</button>`;
  container.append(form);
  const input = form.querySelector("input");
  let target = null;

  const close = () => { form.hidden = true; };
  function onSubmit(event) {
    event.preventDefault();
    const value = Number(input.value);
    close();
    if (target && Number.isFinite(value)) onSet(target, value);
  }
  const onKey = (event) => { if (event.key === "Escape") close(); };
  form.addEventListener("submit", onSubmit);
  form.addEventListener("keydown", onKey);
  form.querySelector(".cancel").addEventListener("click", close);

  return {
    update({ target: next, label, value, x, y, range }) {
      target = next;
      form.hidden = false;
      form.querySelector("span").textContent = label;
      if (range) Object.assign(input, { min: range.min, max: range.max, title: `from ${range.min} to ${range.max}` });
      input.value = (+value).toFixed(4);
      place(form, x, y);
      input.focus();
      input.select();
    },
    close,
    contains: (node) => form.contains(node),
    destroy() { form.remove(); },
  };
}
