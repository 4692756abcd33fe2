// The tokens a line of the Math page is made of, and what can be read off a line: matrices named
// by their maths symbol, with an explain(i, j) for the hover, operators, functions and scalars.
//   mat(name, symbol, values) -> {kind: "matrix", name, symbol, values, decimals, entry(i, j)}
//   dot(result, A, B, bias)   result = A·B (+ bias): result.explain(i, j) writes the sum out
//   elementwise(result, operands, describe)   result = g(operands), entry by entry
//   lineFormula(line), lineShapes(line)       "z¹ = X·W¹ + b¹", "(4×2)·(2×2) + (1×2) → (4×2)"
// Only rearrangements here (transpose, a column of ones, stacking, exact sign flips): no arithmetic.
import { decimalsFor, formatFactor, formatNumber } from "../views/matrix.js";

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const SUBSCRIPT = "₀₁₂₃₄₅₆₇₈₉";

export const sup = (n) => String(n).replace(/\d/g, (d) => SUPERSCRIPT[d]);
export const subDigits = (n) => String(n).replace(/\d/g, (d) => SUBSCRIPT[d]);
// Cell indices, 1-based as in maths: ₁₂, or ₁₀,₂ once an index has two digits.
export const sub = (i, j) => (i < 9 && j < 9 ? subDigits(i + 1) + subDigits(j + 1) : `${subDigits(i + 1)},${subDigits(j + 1)}`);

// -- rearrangements (no arithmetic) ---------------------------------------------------------
export const asRows = (v) => (Array.isArray(v[0]) ? v : [v]); // a vector (n,) shown as a 1×n row
export const transpose = (M) => M[0].map((_, j) => M.map((row) => row[j]));
export const withOnes = (M) => M.map((row) => [...row, 1]);
export const stack = (top, bottomRows) => [...top, ...bottomRows];
export const negate = (M) => M.map((row) => row.map((v) => (v === null ? null : -v))); // exact in IEEE 754
export const zerosRow = (cols) => [new Array(cols).fill(0)];

// -- tokens ----------------------------------------------------------------------------------
export function mat(name, symbol, values, extra = {}) {
  return { kind: "matrix", name, symbol, values, decimals: decimalsFor(values),
    entry: (i, j) => `${symbol}${sub(i, j)}`, ...extra };
}
export const op = (text) => ({ kind: "op", text });
export const fn = (text) => ({ kind: "fn", text });
export const scalar = (label, value) => ({ kind: "scalar", label, value });
export const num = (m, i, j) => formatNumber(m.values[i][j], m.decimals);
export const factor = (m, i, j) => formatFactor(m.values[i][j], m.decimals);
export const scalarText = (s) => formatNumber(s.value, decimalsFor([[s.value]]));

// result = A·B (+ bias row): the hover writes the sum out term by term.
export function dot(result, A, B, bias = null, extra = null) {
  result.explain = (i, j) => {
    const terms = A.values[i].map((_, k) => `${factor(A, i, k)}·${factor(B, k, j)}`);
    if (bias) terms.push(factor(bias, 0, j));
    const links = [{ name: A.name, rows: [i] }, { name: B.name, cols: [j] }];
    if (bias) links.push({ name: bias.name, cells: [[0, j]] });
    let text = terms.join(" + ");
    if (extra) {
      const more = extra(i, j);
      if (more) { text += more.text; links.push(...more.links); }
    }
    return { links, text: `${result.entry(i, j)} = ${text} = ${num(result, i, j)}` };
  };
  return result;
}

// result = g(operands) entry by entry: the hover names the entries it used.
export function elementwise(result, operands, describe) {
  result.explain = (i, j) => ({
    links: operands.map((m) => ({ name: m.name, cells: [[i, j]] })),
    text: `${result.entry(i, j)} = ${describe(i, j)} = ${num(result, i, j)}`,
  });
  return result;
}


// -- formula and shapes, read off a line of tokens ----------------------------------------
function tidy(text) {
  return text.replace(/^− /, "−").replace(/\( /g, "(").replace(/ \)/g, ")").replace(/ ,/g, ",").replace(/(σ|tanh|relu|lrelu|id|softmax|sgd|momentum|adam|sign) \(/g, "$1(").trim();
}

function splitAtEquals(line) {
  const at = line.findIndex((t) => t.kind === "op" && t.text === "=");
  return at < 0 ? [line, null] : [line.slice(0, at), line[at + 1]];
}

export function lineFormula(line) {
  const [lhs, result] = splitAtEquals(line);
  const expr = tidy(lhs.map((t) => (t.kind === "matrix" ? t.symbol : t.kind === "scalar" ? t.label : t.text)).join(" "));
  if (!result) return expr;
  return result.assigns ? `${result.assigns} ← ${expr}` : `${result.symbol} = ${expr}`;
}

export function lineShapes(line) {
  const shape = (t) => `(${t.values.length}×${t.values[0]?.length ?? 0})`;
  const [lhs, result] = splitAtEquals(line);
  const expr = tidy(lhs.map((t) => (t.kind === "matrix" ? shape(t) : t.kind === "scalar" ? t.label : t.text)).join(" "));
  return result ? `${expr} → ${shape(result)}` : expr;
}
