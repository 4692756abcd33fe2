// The last operation of each layer: the update of its weights and biases, W ← W − η·dW (or the
// optimiser's rule), with the tutorials' form W + η·(aᵀ·Δ) beside it when asked for.
//   updateOperation(l, {t, column, tutorial, optimizer, eta, W, b, Wb, gradW, gradb, gradWb})
//     -> {id: "update<l>", kind: "update", layer: l, title, sentence, lines}
import { factor, fn, mat, num, op, scalarText, stack, sub, sup } from "./tokens.js";

// Formatting only: one decimal beyond the place of the largest change η·|g| a step makes.
function changeDecimals(learningRate, gradient) {
  let largest = 0;
  for (const row of gradient) for (const g of row) largest = Math.max(largest, Math.abs(g ?? 0));
  const change = learningRate * largest;
  return change > 0 ? Math.min(6, Math.max(0, Math.ceil(-Math.log10(change)) + 1)) : 0;
}

export function updateOperation(l, { t, column, tutorial, optimizer, eta, W, b, Wb, gradW, gradb, gradWb }) {
  const newW = () => mat(`W${l}_new`, `new W${sup(l)}`, t.W_new[l - 1], { assigns: `W${sup(l)}` });
  const newb = () => mat(`b${l}_new`, `new b${sup(l)}`, t.b_new[l - 1], { assigns: `b${sup(l)}` });
  const newWb = () => mat(`W${l}_new;b${l}_new`, `new [W${sup(l)}; b${sup(l)}]`, stack(t.W_new[l - 1], t.b_new[l - 1]),
    { assigns: `[W${sup(l)}; b${sup(l)}]`, split: "row" });
  const sgd = optimizer === "sgd";

  // old ∓ η·grad = result, with the hover writing out the one entry's update
  function line(old, grad, result, sign) {
    // enough decimals that the change, about η·|grad|, shows in the old and new weights
    const d = Math.max(old.decimals, result.decimals, changeDecimals(eta.value, grad.values));
    old.decimals = d;
    result.decimals = d;
    const gradEntry = (i, j) => (grad.symbol.includes("·") ? `(${grad.symbol})${sub(i, j)}` : grad.entry(i, j));
    result.explain = (i, j) => ({
      links: [{ name: old.name, cells: [[i, j]] }, { name: grad.name, cells: [[i, j]] }],
      text: sgd
        ? `${result.entry(i, j)} = ${old.entry(i, j)} ${sign} η·${gradEntry(i, j)} = ${num(old, i, j)} ${sign} ${scalarText(eta)}·${factor(grad, i, j)} = ${num(result, i, j)}`
        : `${result.entry(i, j)} = ${num(result, i, j)}, from ${old.entry(i, j)} = ${num(old, i, j)} and ${grad.entry(i, j)} = ${num(grad, i, j)}; ${optimizer} also uses the earlier steps`,
    });
    return sgd ? [old, op(sign), eta, op("·"), grad, op("="), result]
      : [fn(optimizer), op("("), old, op(","), grad, op(")"), op("="), result];
  }

  const lines = column ? [line(Wb, gradWb, newWb(), tutorial ? "+" : "−")]
    : [line(W, gradW, newW(), tutorial ? "+" : "−"), line(b, gradb, newb(), tutorial ? "+" : "−")];
  if (tutorial && sgd) {
    // the gradient form beside it, with the engine's own dW: it ends in the same new weights
    const dW = column ? mat(`dW${l};db${l}`, `[dW${sup(l)}; db${sup(l)}]`, stack(t.dW[l - 1], t.db[l - 1]), { split: "row" })
      : mat(`dW${l}`, `dW${sup(l)}`, t.dW[l - 1]);
    lines.push(line(column ? Wb : W, dW, column ? newWb() : newW(), "−"));
  }
  const sentence = !sgd
    ? `The ${optimizer} optimiser does not simply subtract η·dW: it also uses what it remembers from earlier steps, so the new weights come from the engine's ${optimizer} rule (η = ${scalarText(eta)}).`
    : tutorial
      ? `The tutorials add η times ${gradW.symbol}. Since Δ = −δ, that is exactly the gradient form W − η·dW, shown last with the engine's dW: both end in the same new weights.`
      : `Gradient descent takes a small step downhill: every weight moves against its gradient, scaled by the learning rate η = ${scalarText(eta)}.`;
  return { id: `update${l}`, kind: "update", layer: l, title: `Layer ${l}: update W${sup(l)}, b${sup(l)}`, sentence, lines };
}
