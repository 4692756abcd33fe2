// The MNIST download box of the Digits page: shown when the server has no MNIST files, with a
// progress bar while it fetches them. When the download fails it says so in plain words, and how
// to put the files there by hand (the file names and the folder come from GET /api/mnist); the
// server's own message is behind "details".
// createDownload(root, {socket, onReady()}) -> {update({missing, progress, reply}) -> handled, destroy()}
import { getJSON } from "../socket.js";
import { formatBytes } from "../format.js";

export function createDownload(root, { socket, onReady }) {
  const $ = (id) => root.querySelector(`#${id}`);
  let id = null;

  function start() {
    $("download").disabled = true;
    $("download-failed").hidden = true;
    $("download-progress").hidden = false;
    id = socket.send("download_mnist");
    if (id === null) failed({ message: "the server cannot be reached" });
  }

  function progress(m) {
    const fraction = m.total ? m.done / m.total : 0;
    $("download-progress").querySelector(".dg-progress-fill").style.width = `${(100 * fraction).toFixed(1)}%`;
    $("download-progress").querySelector(".dg-progress-text").textContent = `${m.file}: ${formatBytes(m.done)} of ${formatBytes(m.total)}`;
  }

  async function failed(m) {
    id = null;
    $("download").disabled = false;
    $("download").textContent = "Try again";
    $("download-progress").hidden = true;
    let status = null;
    try { status = await getJSON("/api/mnist"); } catch { /* the words below do without it */ }
    const files = (status?.missing ?? []).map((stem) => `${stem}.gz`);
    const cause = m.field === "mnist_mirrors" ? "none of the download mirrors could be reached (this server may have no internet access)"
      : "the download did not complete";
    $("download-failed").hidden = false;
    $("download-reason").textContent = `The MNIST files could not be downloaded: ${cause}.`;
    $("download-files").replaceChildren(...files.map((f) => Object.assign(document.createElement("li"), { textContent: f })));
    $("download-dir").textContent = status?.dir ?? "the server's MNIST folder";
    $("download-details").textContent = m.message;
  }

  $("download").addEventListener("click", start);

  return {
    update({ missing, progress: p, reply }) {
      if (missing !== undefined) root.querySelector("#mnist-missing").hidden = !missing;
      if (p) progress(p);
      if (!reply || id === null || reply.id !== id) return false;
      if (reply.type === "error") { failed(reply); return true; }
      if (reply.type === "ack") { id = null; $("download-progress").hidden = true; onReady(); return true; }
      return false;
    },
    destroy() { $("download").removeEventListener("click", start); },
  };
}
