// What the Playground's controls show and allow: the run state, which controls apply to the data
// set, the layer buttons at the server's limits, fields being typed, and the page without a server.
// Everything a control may do is decided here before anything is sent (limits from the schema).
import { dataset } from "./session.js";
import { plural } from "../format.js";

export function setRunning(state, running) {
  state.running = running;
  const play = state.$("#play");
  play.textContent = running ? "❚❚ Pause" : "▶ Play";
  play.classList.toggle("running", running);
  play.setAttribute("aria-pressed", String(running));
}

// Controls that mean nothing for the chosen data set are disabled (sliders then show "—").
export function showAvailability(state) {
  const { controls } = state.views;
  const table = dataset(state).kind === "table";
  for (const field of ["noise", "train_ratio", "n_samples"]) controls.enable(field, !table);
  controls.enable("features", state.dataset.extent !== null && state.dataset.extent !== undefined);
  const problem = state.dataset.problem;
  const outputs = state.schema.fields.output.choices;
  for (const option of state.root.querySelectorAll("[data-field=output] option")) {
    const fits = outputs.find((o) => o.value === option.value)?.problems.includes(problem) ?? true;
    option.disabled = !fits;
    option.title = fits ? "" : `not for ${problem}`;
  }
  const losses = outputs.find((o) => o.value === state.config.output)?.losses ?? [];
  for (const option of state.root.querySelectorAll("[data-field=loss] option")) {
    option.disabled = !losses.includes(option.value);
    option.title = option.disabled ? `does not go with a ${state.config.output} output` : "";
  }
  const regression = problem === "regression";
  state.$("#add-class").hidden = regression;
  state.$("#add-value").hidden = !regression;
  state.$(".pg-addpoint").hidden = table;   // points go into the 2-D toy sets only
  showLayers(state);
}

// "+" adds a layer until the server's max_layers, "−" removes one down to none.
export function showLayers(state) {
  const { max_layers: most } = state.schema.fields.hidden;
  const n = state.config.hidden?.length ?? 0;
  const add = state.$("#add-layer"), remove = state.$("#remove-layer");
  add.disabled = n >= most;
  add.title = add.disabled ? `This server allows at most ${plural(most, "hidden layer")}` : "Add a hidden layer";
  remove.disabled = n === 0;
  remove.title = remove.disabled ? "There is no hidden layer to remove" : "Remove the last hidden layer";
  state.$("#layer-count").textContent = plural(n, "hidden layer");
}

// A field being typed holds a value the schema refuses: say why beside it, and keep Play and Step
// from starting a run the server would refuse.
export function showValidity(state, field, problem) {
  if (problem) state.invalid.set(field, problem); else state.invalid.delete(field);
  const reason = [...state.invalid.values()][0] ?? null;
  state.$("#field-problem").hidden = !reason;
  state.$("#field-problem").textContent = reason ?? "";
  showRunButtons(state);
}

export function showRunButtons(state) {
  const reason = !state.online ? "Waiting for the server" : [...state.invalid.values()][0] ?? null;
  for (const id of ["#play", "#step"]) {
    const button = state.$(id);
    button.disabled = reason !== null && !(id === "#play" && state.running && state.online);
    button.title = button.disabled ? reason : button.dataset.title;
  }
  state.$("#reset").disabled = !state.online;
}

// Without a server nothing can be changed: the panels become inert (and look it), the run is
// shown paused, and Play, Step and Reset say what they wait for.
export function setOnline(state, online) {
  state.online = online;
  for (const panel of state.root.querySelectorAll("[data-needs-server]")) panel.inert = !online;
  state.root.classList.toggle("offline", !online);
  if (!online) setRunning(state, false);
  showRunButtons(state);
}
