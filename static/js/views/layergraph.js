// A small diagram of a network's layers: one column of neurons per layer, the input first.
// createLayerGraph(element, {onSelect(layer)}) -> {update({sizes, activations, current}), destroy}
// Clicking a column calls onSelect with its layer number (0 = the input).
const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 150;
const LABEL_SPACE = 30;
const MAX_DRAWN = 8; // more neurons than this are drawn as 8 with a "+k" note

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

export function createLayerGraph(element, { onSelect } = {}) {
  const root = svg("svg", { class: "layergraph", role: "group" });
  element.append(root);
  let shown = "";

  function onClick(event) {
    const group = event.target.closest("[data-layer]");
    if (group) onSelect?.(Number(group.dataset.layer));
  }
  function onKey(event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    const group = event.target.closest("[data-layer]");
    if (group) { event.preventDefault(); event.stopPropagation(); onSelect?.(Number(group.dataset.layer)); }
  }
  root.addEventListener("click", onClick);
  root.addEventListener("keydown", onKey);

  function draw(sizes, activations) {
    const width = Math.max(180, element.clientWidth || 240);
    root.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
    root.setAttribute("width", width);
    root.setAttribute("height", HEIGHT);
    const columnWidth = width / sizes.length;
    const x = (l) => columnWidth * (l + 0.5);
    const drawn = sizes.map((n) => Math.min(n, MAX_DRAWN));
    const radius = Math.min(9, (HEIGHT - LABEL_SPACE - 10) / (2.6 * Math.max(...drawn)));
    const y = (l, k) => ((HEIGHT - LABEL_SPACE) / 2) + (k - (drawn[l] - 1) / 2) * radius * 2.6;
    const edges = svg("g", { class: "lg-edges" });
    for (let l = 1; l < sizes.length; l++) {
      for (let i = 0; i < drawn[l - 1]; i++) for (let j = 0; j < drawn[l]; j++) {
        edges.append(svg("line", { x1: x(l - 1), y1: y(l - 1, i), x2: x(l), y2: y(l, j) }));
      }
    }
    const layers = sizes.map((n, l) => {
      const group = svg("g", { class: "lg-layer", "data-layer": l, tabindex: 0 });
      const title = svg("title");
      title.textContent = l === 0 ? `input: ${n} values — click to see X` : `layer ${l}: ${n} neurons, ${activations[l - 1]} — click to see its matrices`;
      group.append(title, svg("rect", { class: "lg-hit", x: x(l) - columnWidth / 2 + 2, y: 2, width: columnWidth - 4, height: HEIGHT - 4, rx: 6 }));
      for (let k = 0; k < drawn[l]; k++) group.append(svg("circle", { cx: x(l), cy: y(l, k), r: radius }));
      const label = svg("text", { x: x(l), y: HEIGHT - 16, "text-anchor": "middle" });
      label.textContent = l === 0 ? "X" : `layer ${l}`;
      const detail = svg("text", { x: x(l), y: HEIGHT - 4, "text-anchor": "middle", class: "lg-detail" });
      detail.textContent = l === 0 ? `${n} inputs` : `${n} · ${activations[l - 1]}`;
      group.append(label, detail);
      return group;
    });
    root.replaceChildren(edges, ...layers);
  }

  return {
    update({ sizes, activations, current }) {
      const key = `${sizes.join(",")}|${activations.join(",")}|${element.clientWidth}`;
      if (key !== shown) { draw(sizes, activations); shown = key; }
      for (const group of root.querySelectorAll(".lg-layer")) {
        group.classList.toggle("current", Number(group.dataset.layer) === current);
      }
    },
    destroy() {
      root.removeEventListener("click", onClick);
      root.removeEventListener("keydown", onKey);
      root.remove();
    },
  };
}
