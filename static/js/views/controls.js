// Form controls bound to config fields by markup: an element with data-field="name" shows and
// edits config[name]; data-type="number" reads it as a number; radio buttons share a data-field;
// checkboxes with data-feature="x1" edit the list config.features; <output data-shows="name">
// displays a value (through `format`), or "—" while the field's controls are disabled.
//
// createControls(root, {onChange(field, value), check(field, value) -> problem | null,
//                       onValidity(field, problem), format(field, value) -> text, minFeatures})
//   -> {update(config), enable(name, enabled), destroy()}
// A typed value that `check` refuses is not sent: the field is marked invalid, its title says
// why, and onValidity tells the page (which disables what would use it).

function readField(el) {
  return el.dataset.type === "number" ? (el.value.trim() === "" ? NaN : Number(el.value)) : el.value;
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

const NEED_ONE = "The network needs at least one input: check another feature before unchecking this one";

export function createControls(root, options) {
  const { onChange, check = () => null, onValidity = () => {}, format = (f, v) => String(v), minFeatures = 1 } = options;
  const fields = [...root.querySelectorAll("[data-field]")];
  const features = [...root.querySelectorAll("[data-feature]")];
  const outputs = [...root.querySelectorAll("output[data-shows]")];
  const disabled = new Set();     // fields (and "features") switched off for this data set
  let shown = {};

  function validate(el) {
    const name = el.dataset.field;
    const problem = el.type === "number" ? check(name, readField(el)) : null;
    el.setCustomValidity(problem ?? "");
    el.setAttribute("aria-invalid", String(problem !== null));
    el.title = problem ?? "";
    onValidity(name, problem);
    return problem;
  }

  function onInput(event) {
    const el = event.target;
    if (event.type === "input") {    // live read-outs while typing or dragging; act on "change"
      if (el.type === "range" && el.dataset.field) showOutputs({ [el.dataset.field]: readField(el) });
      if (el.type === "number" && el.dataset.field) validate(el);
      return;
    }
    if (el.dataset.feature) {
      onChange("features", features.filter((f) => f.checked).map((f) => f.dataset.feature));
      return;
    }
    if (!el.dataset.field || (el.type === "radio" && !el.checked)) return;
    if (el.type === "number" && validate(el)) return;
    onChange(el.dataset.field, readField(el));
  }

  function showOutputs(config) {
    for (const out of outputs) {
      const name = out.dataset.shows;
      if (name in config) out.value = disabled.has(name) ? "—" : format(name, config[name]);
    }
  }

  // The last checked feature cannot be unchecked: it is disabled, and its title says why.
  function showFeatures() {
    const checked = features.filter((f) => f.checked).length;
    for (const f of features) {
      const last = f.checked && checked <= minFeatures;
      f.disabled = disabled.has("features") || last;
      f.title = last && !disabled.has("features") ? NEED_ONE : "";
      f.closest("label")?.setAttribute("title", f.title);
    }
  }

  root.addEventListener("change", onInput);
  root.addEventListener("input", onInput);

  return {
    // Show a configuration in every bound control.
    update(config) {
      shown = { ...shown, ...config };
      for (const el of fields) {
        const name = el.dataset.field;
        if (!(name in config)) continue;
        const v = config[name];
        if (el.type === "radio") el.checked = el.value === String(v);
        else showValue(el, v);
        if (el.type === "number") validate(el);
      }
      if (config.features) for (const f of features) f.checked = config.features.includes(f.dataset.feature);
      showFeatures();
      showOutputs(config);
    },
    // Enable or disable the controls of one field (or the feature boxes with "features").
    enable(name, enabled) {
      if (enabled) disabled.delete(name); else disabled.add(name);
      if (name === "features") { showFeatures(); return; }
      for (const el of fields.filter((f) => f.dataset.field === name)) el.disabled = !enabled;
      showOutputs(shown);
    },
    destroy() {
      root.removeEventListener("change", onInput);
      root.removeEventListener("input", onInput);
    },
  };
}
