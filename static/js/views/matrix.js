// Matrices as bracketed grids of numbers, and equations made of them, with cell hover links.
//
// createEquation(element, {hint}) -> {update(lines), destroy}
//   lines: [[token, ...], ...] as built by static/js/steps.js. A token is
//     {kind: "matrix", name, symbol, values, decimals, explain?(i, j), split?: "row"|"col", ones?: bool|"all"}
//     (split: a dashed line before the last row or column, e.g. the bias row under W; ones: that
//     last row or column is the constant input 1, or "all" for a matrix of ones)
//     {kind: "op", text}   {kind: "scalar", label, value}   {kind: "fn", text}
//   Hovering a cell of a matrix that has `explain` highlights the cells it was made from
//   (explain returns {links: [{name, rows?, cols?, cells?}], text}) and writes `text` below.
//
// Each matrix is a <figure data-matrix=name data-decimals=d>; each cell a <span data-row
// data-col data-value> holding the full-precision value the trace sent, for tests.

const MINUS = "\u2212";

// Decimals that show at least three significant figures of the largest entry (and never fewer
// than 3); 0 for whole numbers such as truth-table inputs, but 0.000 for an all-zero matrix.
export function decimalsFor(values) {
  let maxAbs = 0;
  let integers = true;
  for (const row of values) for (const v of row) {
    maxAbs = Math.max(maxAbs, Math.abs(v));
    if (!Number.isInteger(v)) integers = false;
  }
  if (maxAbs === 0) return 3;
  if (integers) return 0;
  return Math.min(5, Math.max(3, 2 - Math.floor(Math.log10(maxAbs))));
}

// "−0.210" with a real minus sign; a value that rounds to zero loses its sign.
export function formatNumber(value, decimals) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const text = Math.abs(value).toFixed(decimals);
  return value < 0 && Number(text) !== 0 ? MINUS + text : text;
}

// A number as a factor in a written-out sum: negative ones in parentheses.
export function formatFactor(value, decimals) {
  const text = formatNumber(value, decimals);
  return text.startsWith(MINUS) ? `(${text})` : text;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Cell background: orange for positive, blue for negative, stronger for larger magnitude
// relative to the largest entry of the same matrix.
function cellColour(value, maxAbs) {
  if (!maxAbs || !value) return "";
  const strength = 0.1 + 0.55 * Math.min(1, Math.abs(value) / maxAbs);
  return value > 0 ? `rgba(245, 147, 34, ${strength.toFixed(3)})` : `rgba(8, 119, 189, ${strength.toFixed(3)})`;
}

function renderMatrix(token) {
  const { values } = token;
  const rows = values.length;
  const cols = rows ? values[0].length : 0;
  const figure = element("figure", "mx");
  figure.dataset.matrix = token.name;
  figure.dataset.decimals = String(token.decimals);
  figure.dataset.rows = String(rows);
  figure.dataset.cols = String(cols);
  if (token.source) figure.dataset.source = token.source;
  if (token.explain) figure.classList.add("mx-result");
  const grid = element("div", "mx-grid");
  grid.style.gridTemplateColumns = `repeat(${cols}, auto)`;
  let maxAbs = 0;
  for (const row of values) for (const v of row) maxAbs = Math.max(maxAbs, Math.abs(v));
  values.forEach((row, i) => row.forEach((v, j) => {
    const cell = element("span", "mx-cell", formatNumber(v, token.decimals));
    cell.dataset.row = String(i);
    cell.dataset.col = String(j);
    cell.dataset.value = String(v);
    cell.style.background = cellColour(v, maxAbs);
    if (token.split === "col" && j === cols - 1) cell.classList.add("mx-split-col");
    if (token.split === "row" && i === rows - 1) cell.classList.add("mx-split-row");
    if (token.ones === "all" || (token.ones && (cell.classList.contains("mx-split-col") || cell.classList.contains("mx-split-row")))) {
      cell.classList.add("mx-ones");
    }
    grid.append(cell);
  }));
  const caption = element("figcaption");
  const label = element("span", "mx-label", token.symbol);
  caption.append(label, element("span", "mx-shape", `${rows}×${cols}`));
  figure.append(grid, caption);
  return figure;
}

function renderToken(token, tokens) {
  if (token.kind === "matrix") {
    const figure = renderMatrix(token);
    tokens.set(figure, token);
    return figure;
  }
  if (token.kind === "scalar") {
    const box = element("span", "eq-scalar");
    box.append(element("span", "eq-scalar-value", formatNumber(token.value, decimalsFor([[token.value]]))),
      element("span", "eq-scalar-label", token.label));
    return box;
  }
  if (token.kind === "fn") return element("span", "eq-fn", token.text);
  return element("span", token.text === "·" ? "eq-op eq-dot" : "eq-op", token.text);
}

export function createEquation(container, { hint = "" } = {}) {
  const lines = element("div", "eq-lines");
  const readout = element("p", "eq-readout");
  container.append(lines, readout);
  let tokens = new WeakMap(); // figure -> its matrix token, for the lines shown now
  let lit = [];

  function clearLinks() {
    for (const node of lit) node.classList.remove("is-source", "is-target");
    lit = [];
  }

  function light(node, cls) {
    node.classList.add(cls);
    lit.push(node);
  }

  function showLinks(figure, cell) {
    const token = tokens.get(figure);
    if (!token?.explain) return;
    const i = Number(cell.dataset.row), j = Number(cell.dataset.col);
    const { links, text } = token.explain(i, j);
    clearLinks();
    light(cell, "is-target");
    const line = figure.closest(".eq-line");
    for (const link of links) {
      const selector = `figure[data-matrix="${CSS.escape(link.name)}"]`;
      const source = line.querySelector(selector) ?? lines.querySelector(selector); // its own line's copy first
      if (!source) continue;
      for (const c of source.querySelectorAll(".mx-cell")) {
        const r = Number(c.dataset.row), k = Number(c.dataset.col);
        const hit = link.rows?.includes(r) || link.cols?.includes(k) || link.cells?.some(([a, b]) => a === r && b === k);
        if (hit) light(c, "is-source");
      }
    }
    readout.textContent = text;
    readout.classList.add("active");
  }

  function onOver(event) {
    const cell = event.target.closest(".mx-cell");
    const figure = cell?.closest("figure.mx");
    if (figure) showLinks(figure, cell);
  }

  function onLeave() {
    clearLinks();
    readout.textContent = hint;
    readout.classList.remove("active");
  }

  lines.addEventListener("mouseover", onOver);
  lines.addEventListener("mouseleave", onLeave);

  return {
    update(newLines, newHint = hint) {
      hint = newHint;
      tokens = new WeakMap();
      lit = [];
      lines.replaceChildren(...newLines.map((line) => {
        const row = element("div", "eq-line");
        for (const token of line) row.append(renderToken(token, tokens));
        return row;
      }));
      onLeave();
    },
    destroy() {
      lines.removeEventListener("mouseover", onOver);
      lines.removeEventListener("mouseleave", onLeave);
      lines.remove();
      readout.remove();
    },
  };
}
