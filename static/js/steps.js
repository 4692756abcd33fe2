// The walk-through of one training step: the ordered list of operations, built from a trace
// (docs/protocol.md, "trace"). Layer l = 1..L, a⁰ = X, n = batch rows:
//
//   zˡ = aˡ⁻¹·Wˡ + bˡ,  aˡ = f(zˡ),  e = Y − aᴸ,  δᴸ = ∂L/∂zᴸ = −(e ⊙ f′(zᴸ))/n  (squared error)
//   δˡ = (δˡ⁺¹·Wˡ⁺¹ᵀ) ⊙ f′(zˡ),  dWˡ = aˡ⁻¹ᵀ·δˡ,  dbˡ = 1ᵀ·δˡ,  Wˡ ← Wˡ − η·dWˡ
//
// Every number comes from the trace. Nothing of the step is computed here; the only changes
// are presentation: transposing, appending the input column of ones, stacking b under W, and
// flipping signs (exact) for the tutorials' form, whose Δ = (e ⊙ f′(z))/n is exactly −δ.
//
// buildOperations(trace, {update: "gradient"|"tutorial", bias: "separate"|"column", config})
//   -> [{id, kind, layer, title, formula, shapes, sentence, lines}]  (lines: see views/matrix.js)
import { asRows, dot, elementwise, factor, fn, lineShapes, mat, negate, num, op, scalar, scalarText, stack, sub, subDigits,
  sup, transpose, withOnes, zerosRow } from "./steps/tokens.js";
import { updateOperation } from "./steps/update.js";
import { formatNumber } from "./views/matrix.js";

const FUNCTION_SYMBOL = { sigmoid: "σ", tanh: "tanh", relu: "relu", leaky_relu: "lrelu", linear: "id", softmax: "softmax" };
const FUNCTION_NAME = { sigmoid: "the sigmoid σ(z) = 1/(1 + e⁻ᶻ)", tanh: "tanh", relu: "relu, max(0, z)",
  leaky_relu: "leaky relu", linear: "the identity", softmax: "softmax" };
const REQUIRED = ["X", "Y", "W", "b", "z", "a", "error", "delta", "dW", "db", "W_new", "b_new", "fprime", "grad_a"];

function derivativeText(activation, z, a, i, j) {
  const ai = num(a, i, j);
  if (activation === "sigmoid") return `a${sub(i, j)}·(1 − a${sub(i, j)}) = ${ai}·(1 − ${ai})`;
  if (activation === "tanh") return `1 − a${sub(i, j)}² = 1 − ${factor(a, i, j)}²`;
  const positive = z.values[i][j] > 0;
  if (activation === "relu") return positive ? "1, since z > 0" : "0, since z ≤ 0";
  if (activation === "leaky_relu") return positive ? "1, since z > 0" : "0.01, since z ≤ 0";
  return "1 (the identity)";
}

function readTrace(trace) {
  const missing = REQUIRED.filter((key) => !(key in trace));
  if (missing.length) throw new Error(`the trace lacks ${missing.join(", ")} (docs/protocol.md, "trace")`);
  return { ...trace, b: trace.b.map(asRows), db: trace.db.map(asRows), b_new: trace.b_new.map(asRows) };
}

export function buildOperations(trace, { update = "gradient", bias = "separate", config = {} } = {}) {
  const t = readTrace(trace);
  const L = t.W.length;
  const n = t.X.length;
  const tutorial = update === "tutorial";
  const column = bias === "column";
  const optimizer = config.optimizer ?? "sgd";
  const reg = config.regularization && config.regularization !== "none" && config.regularization_rate > 0
    ? { kind: config.regularization, rate: config.regularization_rate } : null;
  const eta = scalar("η", t.learning_rate);
  const batch = scalar("n", n);
  const f = (l) => FUNCTION_SYMBOL[t.activations[l - 1]] ?? "f";
  const aSym = (l) => (l === 0 ? "X" : `a${sup(l)}`);
  const aName = (l) => (l === 0 ? "X" : `a${l}`);
  const aValues = (l) => (l === 0 ? t.X : t.a[l - 1]);
  const ops = [];

  // aˡ⁻¹, or [aˡ⁻¹ 1] with the column of ones in the bias-as-input notation
  const layerInput = (l, transposed = false) => {
    const T = transposed ? "ᵀ" : "";
    const values = column ? withOnes(aValues(l - 1)) : aValues(l - 1);
    const name = column ? `${aName(l - 1)}|1` : aName(l - 1);
    return mat(`${name}${transposed ? ".T" : ""}`, column ? `[${aSym(l - 1)} 1]${T}` : `${aSym(l - 1)}${T}`,
      transposed ? transpose(values) : values, column ? { split: transposed ? "row" : "col", ones: true } : {});
  };
  const W = (l) => mat(`W${l}`, `W${sup(l)}`, t.W[l - 1]);
  const b = (l) => mat(`b${l}`, `b${sup(l)}`, t.b[l - 1]);
  const Wb = (l) => mat(`W${l};b${l}`, `[W${sup(l)}; b${sup(l)}]`, stack(t.W[l - 1], t.b[l - 1]), { split: "row" });
  const fprime = (l) => {
    const values = t.fprime[l - 1];
    const m = mat(`fprime${l}`, `${f(l)}′(z${sup(l)})`, values, { entry: (i, j) => `${f(l)}′(z${sup(l)}${sub(i, j)})` });
    const z = mat(`z${l}`, `z${sup(l)}`, t.z[l - 1]);
    const a = mat(`a${l}`, `a${sup(l)}`, t.a[l - 1]);
    return elementwise(m, [], (i, j) => derivativeText(t.activations[l - 1], z, a, i, j));
  };
  // δˡ, or the tutorials' Δˡ = −δˡ
  const delta = (l) => (tutorial
    ? mat(`Delta${l}`, `Δ${sup(l)}`, negate(t.delta[l - 1]), { source: `-delta${l}` })
    : mat(`delta${l}`, `δ${sup(l)}`, t.delta[l - 1]));

  // -- the input ----------------------------------------------------------------------------
  {
    const X = column ? layerInput(1) : mat("X", "X", t.X);
    const Y = mat("Y", "Y", t.Y);
    ops.push({ id: "input", kind: "input", layer: 0, title: "Input X and targets Y",
      formula: `${X.symbol}: inputs, Y: targets`, shapes: `${lineShapes([X])}, ${lineShapes([Y])}`,
      sentence: `Each row is one training sample: ${n} rows make this batch. X holds the inputs, one column per input, and Y the target the network should output for that row.`
        + (column ? " The last column of X is the extra input fixed at 1; multiplied by the last row of W, it adds the bias." : ""),
      lines: [[X, op(" "), Y]] });
  }

  // -- forward, layer by layer --------------------------------------------------------------
  for (let l = 1; l <= L; l++) {
    const params = column ? [Wb(l)] : [W(l), b(l)];
    ops.push({ id: `params${l}`, kind: "params", layer: l, title: `Layer ${l}: W${sup(l)} and b${sup(l)}`,
      formula: column ? `[W${sup(l)}; b${sup(l)}]: weights with the bias as the last row` : `W${sup(l)}: weights, b${sup(l)}: biases`,
      shapes: params.map((m) => lineShapes([m])).join(", "),
      sentence: `W${sup(l)} has one row per input and one column per neuron: W${sup(l)}ᵢⱼ is the weight from input i to neuron j. `
        + (column ? "The last row holds the biases: they are the weights from the extra input that is always 1."
          : `b${sup(l)} holds one bias per neuron.`),
      lines: [column ? params : [params[0], op(" "), params[1]]] });

    const A = layerInput(l);
    const z = mat(`z${l}`, `z${sup(l)}`, t.z[l - 1]);
    const line = column ? [A, op("·"), params[0], op("="), dot(z, A, params[0])]
      : [A, op("·"), params[0], op("+"), params[1], op("="), dot(z, A, params[0], params[1])];
    ops.push({ id: `z${l}`, kind: "z", layer: l, title: `Layer ${l}: weighted sums z${sup(l)}`,
      sentence: `Each neuron adds up its inputs times their weights, plus its bias: row i of ${A.symbol} times column j of ${column ? params[0].symbol : `W${sup(l)}`} gives z${sup(l)}ᵢⱼ`
        + (column ? ", and the column of ones picks up the bias row." : `, and b${sup(l)} is added to every row.`),
      lines: [line] });

    const zm = mat(`z${l}`, `z${sup(l)}`, t.z[l - 1]);
    const a = mat(`a${l}`, `a${sup(l)}`, t.a[l - 1]);
    const softmax = t.activations[l - 1] === "softmax";
    if (softmax) {
      a.explain = (i, j) => ({ links: [{ name: zm.name, rows: [i] }],
        text: `${a.entry(i, j)} = e^${zm.entry(i, j)} / Σₖ e^z${sup(l)}${subDigits(i + 1)}ₖ = ${num(a, i, j)}` });
    } else {
      elementwise(a, [zm], (i, j) => `${f(l)}(${num(zm, i, j)})`);
    }
    ops.push({ id: `a${l}`, kind: "a", layer: l, title: `Layer ${l}: activations a${sup(l)} = ${f(l)}(z${sup(l)})`,
      sentence: softmax
        ? "Softmax turns each row of z into probabilities that add up to 1."
        : `The activation function, ${FUNCTION_NAME[t.activations[l - 1]] ?? t.activations[l - 1]}, is applied to every entry of z${sup(l)} on its own.`
          + (l === L ? " These are the network's outputs." : ""),
      lines: [[fn(f(l)), op("("), zm, op(")"), op("="), a]] });
  }

  // -- the error ----------------------------------------------------------------------------
  const out = mat(`a${L}`, `a${sup(L)}`, t.a[L - 1]);
  const Y = mat("Y", "Y", t.Y);
  const e = elementwise(mat("error", "e", t.error), [Y, out], (i, j) => `${Y.entry(i, j)} − ${out.entry(i, j)} = ${num(Y, i, j)} − ${factor(out, i, j)}`);
  const lossText = t.loss_name === "squared_error" ? "half the mean squared error, Σe²/(2n)"
    : t.loss_name === "cross_entropy" ? "the mean cross-entropy" : "the mean binary cross-entropy";
  ops.push({ id: "error", kind: "error", layer: L, title: "Error e = target − output",
    sentence: `How far each output is from its target. The loss of this batch is ${lossText} = ${formatNumber(t.loss, 4)}.`,
    lines: [[Y, op("−"), out, op("="), e]] });

  // -- the output delta ---------------------------------------------------------------------
  {
    const act = t.activations[L - 1];
    const simplified = (t.loss_name === "cross_entropy" && act === "softmax") || (t.loss_name === "binary_cross_entropy" && act === "sigmoid");
    const d = delta(L);
    let line, sentence, formula;
    if (simplified) {
      elementwise(d, [e], (i, j) => `${tutorial ? "" : "−"}${e.entry(i, j)} / n = ${tutorial ? "" : "−"}${factor(e, i, j)} / ${n}`);
      line = tutorial ? [e, op("/"), batch, op("="), d] : [op("−"), e, op("/"), batch, op("="), d];
      sentence = `With ${t.loss_name === "cross_entropy" ? "cross-entropy after softmax" : "binary cross-entropy after a sigmoid"}, the derivative of the loss and of the activation cancel out, leaving ${tutorial ? "Δ = e/n" : "δ = ∂L/∂z = −e/n"}: the 1/n because the loss is averaged over the batch.`;
    } else if (t.fprime[L - 1]) {
      const fp = fprime(L);
      const sign = tutorial ? "" : "−";
      elementwise(d, [e, fp], (i, j) => `${sign}(${e.entry(i, j)} · ${fp.entry(i, j)}) / n = ${sign}(${factor(e, i, j)} · ${factor(fp, i, j)}) / ${n}`);
      line = [op(`${sign}(`), e, op("⊙"), fp, op(")"), op("/"), batch, op("="), d];
      sentence = tutorial
        ? `Tutorials call Δ = e ⊙ ${f(L)}′(z) the output delta (⊙ multiplies entry by entry). The engine averages the loss over the batch, so the 1/n belongs here, and then Δ is exactly −δ, the engine's ∂L/∂z with the sign flipped.`
        : `δ${sup(L)} = ∂L/∂z${sup(L)}: how the loss changes when each z changes. The engine's loss is averaged over the batch, so δ = −(e ⊙ ${f(L)}′(z))/n: the minus because e = target − output points the other way from output − target, the 1/n because of the mean. ⊙ multiplies entry by entry.`;
    } else {
      d.explain = (i, j) => ({ links: [{ name: e.name, rows: [i] }, { name: out.name, rows: [i] }],
        text: `${d.entry(i, j)} = ${tutorial ? "−" : ""}a${sub(i, j)}·(g${sub(i, j)} − Σₖ gₖ·aₖ), with g = −e/n over row ${i + 1} = ${num(d, i, j)}` });
      line = [e, op(","), out, op("="), d];
      formula = `${d.symbol} = ${tutorial ? "−" : ""}a ⊙ (g − Σₖ gₖaₖ), g = −e/n`;
      sentence = "Softmax mixes the outputs of a row, so its derivative is not one number per entry: each delta depends on the whole row of errors and outputs.";
    }
    ops.push({ id: `delta${L}`, kind: "delta", layer: L, title: `Output delta ${d.symbol}`, formula, sentence, lines: [line] });
  }

  // -- hidden deltas, back through the transposed weights -----------------------------------
  for (let l = L - 1; l >= 1; l--) {
    const next = delta(l + 1);
    const WT = mat(`W${l + 1}.T`, `W${sup(l + 1)}ᵀ`, transpose(t.W[l]));
    const back = tutorial
      ? mat(`DeltaW${l}`, `e${sup(l)}`, negate(t.grad_a[l - 1]), { source: `-grad_a${l}` })
      : mat(`grad_a${l}`, `∂L/∂a${sup(l)}`, t.grad_a[l - 1]);
    const fp = fprime(l);
    const d = delta(l);
    elementwise(d, [back, fp], (i, j) => `${back.entry(i, j)} · ${fp.entry(i, j)} = ${factor(back, i, j)} · ${factor(fp, i, j)}`);
    ops.push({ id: `delta${l}`, kind: "delta", layer: l, title: `Hidden delta ${d.symbol}`,
      formula: `${d.symbol} = (${next.symbol} · ${WT.symbol}) ⊙ ${fp.symbol}`,
      sentence: `Each neuron of layer ${l} gets its share of the blame: the deltas of layer ${l + 1} flow back through the same weights, transposed, then are scaled by how sensitive the neuron was, ${f(l)}′(z${sup(l)}).`
        + (tutorial ? ` Tutorials call ${back.symbol} = Δ${sup(l + 1)}·W${sup(l + 1)}ᵀ the hidden layer's error; here it already holds the 1/n.` : "")
        + (column ? " The bias row is left out: the constant input 1 has nothing behind it to pass the blame to." : ""),
      lines: [[next, op("·"), WT, op("="), dot(back, next, WT)], [back, op("⊙"), fp, op("="), d]] });
  }

  // -- gradients and updates ----------------------------------------------------------------
  const regSymbol = reg ? (reg.kind === "l2" ? "λ·W" : "λ·sign(W)") : "";
  for (let l = 1; l <= L; l++) {
    const A = layerInput(l, true);
    const d = delta(l);
    const sign = tutorial ? "−" : "+";
    const regPart = !reg ? "" : reg.kind === "l2" ? ` − λW${sup(l)}` : ` − λ·sign(W${sup(l)})`;
    const gradW = tutorial
      ? mat(`step${l}`, `${aSym(l - 1)}ᵀ·Δ${sup(l)}${regPart}`, negate(t.dW[l - 1]), { source: `-dW${l}` })
      : mat(`dW${l}`, `dW${sup(l)}`, t.dW[l - 1]);
    const gradb = tutorial
      ? mat(`stepb${l}`, `1ᵀ·Δ${sup(l)}`, negate(t.db[l - 1]), { source: `-db${l}` })
      : mat(`db${l}`, `db${sup(l)}`, t.db[l - 1]);
    const gradWb = tutorial
      ? mat(`step${l};stepb${l}`, `${A.symbol}·Δ${sup(l)}${regPart}`, negate(stack(t.dW[l - 1], t.db[l - 1])), { source: `-[dW${l}; db${l}]`, split: "row" })
      : mat(`dW${l};db${l}`, `[dW${sup(l)}; db${sup(l)}]`, stack(t.dW[l - 1], t.db[l - 1]), { split: "row" });
    const regTokens = [];
    let regExtra = null;
    if (reg) {
      const Wm = column ? mat(`W${l};0`, `[W${sup(l)}; 0]`, stack(t.W[l - 1], zerosRow(t.W[l - 1][0].length)), { split: "row" }) : W(l);
      const lambda = scalar("λ", reg.rate);
      regTokens.push(op(sign), lambda, op("·"), ...(reg.kind === "l2" ? [Wm] : [fn("sign"), op("("), Wm, op(")")]));
      regExtra = (i, j) => ({
        text: ` ${sign} ${scalarText(lambda)}·${reg.kind === "l2" ? factor(Wm, i, j) : `sign(${factor(Wm, i, j)})`}`,
        links: [{ name: Wm.name, cells: [[i, j]] }] });
    }
    const lines = [];
    if (column) {
      lines.push([A, op("·"), d, ...regTokens, op("="), dot(gradWb, A, d, null, regExtra)]);
    } else {
      const ones = mat("ones.T", "1ᵀ", [new Array(n).fill(1)], { ones: "all" });
      lines.push([A, op("·"), d, ...regTokens, op("="), dot(gradW, A, d, null, regExtra)]);
      lines.push([ones, op("·"), d, op("="), dot(gradb, ones, d)]);
    }
    const what = tutorial ? `${gradW.symbol}, the tutorials' step direction, equals −dW${sup(l)}` : `dW${sup(l)}ᵢⱼ is how much the loss changes when W${sup(l)}ᵢⱼ changes`;
    ops.push({ id: `grad${l}`, kind: "grad", layer: l, title: `Layer ${l}: gradients${tutorial ? ` ${aSym(l - 1)}ᵀ·Δ${sup(l)}` : ` dW${sup(l)}, db${sup(l)}`}`,
      sentence: `${what}: input i times the delta of neuron j, added up over the ${n} rows of the batch. `
        + (column ? "The row of ones in the transposed input gives the bias gradient as the last row." : `The bias sees an input of 1 in every row, so its gradient is the column sums of ${d.symbol} (1ᵀ is a row of ones).`)
        + (reg ? ` The ${reg.kind.toUpperCase()} penalty adds ${regSymbol} (rate λ = ${reg.rate}); the biases are not penalised.` : ""),
      lines });

    ops.push(updateOperation(l, { t, column, tutorial, optimizer, eta, W: W(l), b: b(l), Wb: Wb(l), gradW, gradb, gradWb }));
  }
  return ops;
}
