// Form controls bound to config fields by markup: an element with data-field="name" shows and
// edits config[name]; data-type="number" reads it as a number; data-scale="k" shows k·value
// (a noise slider 0..50 for 0..0.5); radio buttons share a data-field; checkboxes with
// data-feature="x1" edit the list config.features; <output data-shows="name"> displays a value.
//
// createControls(root, {onChange(field, value)}) -> {update(config), destroy()}

function readField(el) {
  const scale = Number(el.dataset.scale ?? 1);
  if (el.dataset.scale) return Number(el.value) / scale;
  return el.dataset.type === "number" ? Number(el.value) : el.value;
}

function showValue(el, value) {
  if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === String(value))) {
    // a value the list lacks (e.g. a learning rate from a link): insert it in numeric order
    const option = new Option(String(value), String(value));
    const after = el.dataset.type === "number" ? [...el.options].find((o) => Number(o.value) > Number(value)) : null;
    el.insertBefore(option, after ?? null);
  }
  el.value = String(value);
}

export function createControls(root, { onChange }) {
  const fields = [...root.querySelectorAll("[data-field]")];
  const features = [...root.querySelectorAll("[data-feature]")];
  const outputs = [...root.querySelectorAll("output[data-shows]")];

  function onInput(event) {
    const el = event.target;
    if (event.type === "input") {    // live read-out while a slider is dragged; act on "change"
      if (el.type === "range" && el.dataset.field) showOutputs({ [el.dataset.field]: readField(el) });
      return;
    }
    if (el.dataset.feature) {
      const chosen = features.filter((f) => f.checked).map((f) => f.dataset.feature);
      onChange("features", chosen);
      return;
    }
    if (!el.dataset.field || (el.type === "radio" && !el.checked)) return;
    onChange(el.dataset.field, readField(el));
  }

  function showOutputs(config) {
    for (const out of outputs) {
      const name = out.dataset.shows;
      if (!(name in config)) continue;
      const v = config[name];
      out.value = name === "train_ratio" || name === "noise" ? `${Math.round(v * 100)}%` : String(v);
    }
  }

  root.addEventListener("change", onInput);
  root.addEventListener("input", onInput);

  return {
    // Show a configuration in every bound control.
    update(config) {
      for (const el of fields) {
        const name = el.dataset.field;
        if (!(name in config)) continue;
        const v = config[name];
        if (el.type === "radio") el.checked = el.value === String(v);
        else showValue(el, el.dataset.scale ? Math.round(v * Number(el.dataset.scale)) : v);
      }
      if (config.features) for (const f of features) f.checked = config.features.includes(f.dataset.feature);
      showOutputs(config);
    },
    // Enable or disable the controls of one field (or the feature boxes with "features").
    enable(name, enabled) {
      const els = name === "features" ? features : fields.filter((el) => el.dataset.field === name);
      for (const el of els) el.disabled = !enabled;
    },
    destroy() {
      root.removeEventListener("change", onInput);
      root.removeEventListener("input", onInput);
    },
  };
}
