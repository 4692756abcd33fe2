// The settings form of the Digits page's "Train on MNIST" panel, read and checked in one place
// against the schema: the architecture (dense or convolutional), its layers (hidden widths, or
// conv layers as text: static/js/spec.js), activation, optimiser, learning rate, batch, training
// images. Choosing an architecture starts from the MNIST preset of that architecture (its layers,
// optimiser, learning rate and batch: the settings it was tuned with, app/presets.py).
// createSettings(form, {schema, onProblem(text | null)})
//   -> {read() -> {problem, settings}, write(config), check() -> ok, preset(), milestone(),
//       setSchema(schema), setPresets(presets), fields, live(name)}
import { parseLayers } from "../schema.js";
import { formatSpec, parseSpec, planSpec, shapeText } from "../spec.js";

const TUNED = ["hidden", "layers", "activation", "optimizer", "learning_rate", "batch_size"];  // a preset's part

export function createSettings(form, { schema: initial, onProblem }) {
  const $ = (id) => form.querySelector(`#${id}`);
  const fields = [...form.elements].filter((el) => el.name).map((el) => el.name);   // architecture, hidden, ...
  let schema = initial, presets = {};

  const mnist = () => schema.fields.dataset.choices.find((d) => d.value === "mnist");
  const architecture = () => form.architecture.value;

  // The MNIST preset of an architecture: {title, config, milestone, ...} or null before the hello.
  function preset(arch = architecture()) {
    return Object.values(presets).find((p) => p.config.dataset === "mnist" && (p.config.architecture ?? "dense") === arch) ?? null;
  }

  // The network's layers as the form holds them: {hidden} or {layers, shapes}, or {problem}.
  function readLayers() {
    if (architecture() !== "conv") return parseLayers(schema, form.hidden.value);
    const field = schema.fields.layers;
    const parsed = parseSpec(field, form.layers.value);
    if (parsed.problem) return parsed;
    const { side } = mnist();
    const planned = planSpec(field, [side, side, 1], parsed.layers);
    return planned.problem ? { problem: `${planned.problem} (${field.label} “${form.layers.value.trim()}”.)` }
      : { layers: parsed.layers, shapes: planned.shapes };
  }

  function read() {
    const found = readLayers();
    const number = (name) => Number(form.elements[name].value);
    const settings = { architecture: architecture(), activation: form.activation.value, optimizer: form.optimizer.value,
      learning_rate: number("learning_rate"), batch_size: number("batch_size"), mnist_train_size: number("mnist_train_size") };
    if (found.hidden) settings.hidden = found.hidden;
    if (found.layers) settings.layers = found.layers;
    return { problem: found.problem ?? null, settings, shapes: found.shapes ?? null };
  }

  function write(config) {
    for (const field of fields) {
      if (config[field] === undefined) continue;
      const value = field === "hidden" ? config.hidden.join(", ")
        : field === "layers" && Array.isArray(config.layers) ? formatSpec(schema.fields.layers, config.layers) : String(config[field]);
      const input = form.elements[field];
      if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === value)) input.add(new Option(value, value));
      input.value = value;
    }
    showArchitecture();
    check();
  }

  function showArchitecture() {
    const conv = architecture() === "conv";
    $("hidden-field").hidden = conv;
    $("layers-field").hidden = !conv;
  }

  // Shows the network's shape, or what is wrong with its layers; false while something is.
  function check() {
    const { problem, settings, shapes } = read();
    const input = architecture() === "conv" ? form.layers : form.hidden;
    for (const el of [form.hidden, form.layers]) el.setAttribute("aria-invalid", String(el === input && problem !== null));
    $("hidden-problem").hidden = problem === null;
    $("hidden-problem").textContent = problem ?? "";
    const { side, inputs, classes } = mnist();
    const widths = shapes ? [`${side}×${side}`, ...shapes.map(shapeText)] : [inputs, ...(settings.hidden ?? [])];
    $("architecture").textContent = problem ? "" : `${[...widths, classes].join(shapes ? " → " : "–")} · softmax output`;
    onProblem(problem);
    return problem === null;
  }

  // Another architecture: its preset's layers and training settings, the rest kept.
  function onArchitecture() {
    const chosen = preset();
    if (chosen) write(Object.fromEntries(TUNED.filter((k) => chosen.config[k] !== undefined).map((k) => [k, chosen.config[k]])));
    else showArchitecture();
  }
  form.architecture.addEventListener("change", onArchitecture);

  if (!form.layers.value) form.layers.value = formatSpec(schema.fields.layers, schema.fields.layers.default);
  showArchitecture();

  return {
    fields, read, write, check, preset,
    milestone: () => preset()?.milestone ?? null,
    setSchema(next) { schema = next; },
    setPresets(next) { presets = next ?? {}; },
    // the settings in the address: the layers as their text
    forUrl(settings) {
      return Object.fromEntries(fields.map((k) => [k, k === "layers" && settings.layers ? formatSpec(schema.fields.layers, settings.layers) : settings[k]]));
    },
    destroy() { form.architecture.removeEventListener("change", onArchitecture); },
  };
}
