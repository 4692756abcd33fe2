// One bar per class showing the network's probability for it; the most likely class stands out.
// createBars(element, {labels}) -> {update({probabilities: number[] | null}), destroy()}
// With probabilities null every bar is empty (nothing to read yet).
import { frameScheduler } from "../frame.js";

export function createBars(element, options = {}) {
  const { labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] } = options;
  const root = document.createElement("div");
  root.className = "bars";
  root.setAttribute("role", "img");   // its text alternative reads out every bar
  const columns = labels.map((label) => {
    const column = document.createElement("div");
    column.className = "bar";
    column.dataset.label = label;
    column.innerHTML = `<span class="bar-value"></span><span class="bar-track"><span class="bar-fill"></span></span><span class="bar-label"></span>`;
    column.querySelector(".bar-label").textContent = label;
    root.append(column);
    return {
      column,
      value: column.querySelector(".bar-value"),
      fill: column.querySelector(".bar-fill"),
    };
  });
  element.append(root);

  let probabilities = null;

  function draw() {
    const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
    columns.forEach(({ column, value, fill }, i) => {
      const p = probabilities ? probabilities[i] : 0;
      fill.style.height = `${(100 * p).toFixed(1)}%`;
      value.textContent = probabilities ? `${Math.round(100 * p)}` : "";
      column.classList.toggle("best", i === best);
      column.title = probabilities ? `${labels[i]}: ${(100 * p).toFixed(1)} %` : "";
    });
    root.setAttribute("aria-label", probabilities
      ? `Probabilities: ${labels.map((label, i) => `${label} ${Math.round(100 * probabilities[i])} %`).join(", ")}`
      : "Probabilities: nothing read yet");
  }
  const scheduler = frameScheduler(draw);
  scheduler.request();

  return {
    update(state) {
      probabilities = state.probabilities ? Array.from(state.probabilities) : null;
      scheduler.request();
    },
    destroy() { scheduler.cancel(); root.remove(); },
  };
}
