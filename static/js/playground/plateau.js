// Local minima: the training loss has stopped falling well above zero. The hint appears when
// the loss fell by less than `gain` over the window; it then stays until the loss is `clearGain`
// below where it was stuck (or solved), so its button never flickers away.
import { formatLoss, thousands } from "../format.js";
import { randomSeed, send } from "./session.js";

const PLATEAU = { minSteps: 500, epochs: 50, gain: 0.01, clearGain: 0.2, solvedLoss: 0.02 };

export function resetPlateau(state) {
  state.plateau = { bestLoss: Infinity, bestStep: 0, shown: false };
  state.messages.clear("stuck");
}

export function checkPlateau(state, m) {
  const p = state.plateau;
  const loss = m.train_loss;
  if (loss === null || loss === undefined) return;
  if (m.step < p.bestStep) { resetPlateau(state); return; }   // rolled back after a divergence
  if (loss < p.bestLoss * (1 - PLATEAU.gain)) { p.bestLoss = loss; p.bestStep = m.step; }
  const stepsPerEpoch = Math.max(1, Math.ceil((state.dataset?.n_train ?? 1) / state.config.batch_size));
  const window = Math.max(PLATEAU.minSteps, PLATEAU.epochs * stepsPerEpoch);
  const solved = loss <= PLATEAU.solvedLoss || m.train_accuracy === 1;
  const stuck = !solved && (p.shown ? loss > p.stuckLoss * (1 - PLATEAU.clearGain) : m.step - p.bestStep >= window);
  if (stuck && !p.shown) {
    p.stuckLoss = p.bestLoss;
    state.messages.update({
      key: "stuck", kind: "hint",
      text: `The training loss has stayed near ${formatLoss(p.bestLoss)} for ${thousands(m.step - p.bestStep)} steps. `
        + "The network may be stuck in a local minimum or on a plateau (new random starting weights often get it out), "
        + "or it may be too small for this data (add neurons or features).",
      actions: [{ label: "New seed", onClick: () => send(state, "reset", { seed: randomSeed() }) }],
    });
  } else if (!stuck && p.shown) {
    state.messages.clear("stuck");
  }
  p.shown = stuck;
}
