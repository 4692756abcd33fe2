"""Page-side speed of the Playground in headless Chromium (software rendering): fps from
requestAnimationFrame while training, and the time of the page's handler per incoming message type."""
import os
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

CASES = {
    "xor preset, 150 steps/s": ("", "xor", None, 10),
    "spiral preset, flat out": ("", "spiral", 0, 10),
    "circle 2-64-64-64-1, flat out": ("?dataset=circle&hidden=64,64,64&steps_per_second=0", None, None, 10),
}
port = 8741
proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
                        cwd=Path(__file__).resolve().parents[1], env=dict(os.environ, NNPLAY_MODELS_DIR="/tmp/pg_models"),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    time.sleep(3)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"], headless=True)
        for name, (query, preset, speed, seconds) in CASES.items():
            page = b.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)  # wait_for_function evals
            page.goto(f"http://127.0.0.1:{port}/playground{query}")
            page.wait_for_function("document.querySelector('#network').dataset.step !== undefined")
            if preset:
                page.select_option("#preset", preset)
                page.wait_for_timeout(1000)
            if speed is not None:
                page.select_option("#speed", str(speed))
            page.evaluate("() => { for (const s of Object.values(window.nnplayStats.handlers)) Object.assign(s, {count: 0, totalMs: 0, maxMs: 0, meanMs: 0, over4ms: 0}); window.nnplayStats.fpsHistory.length = 0; }")
            page.click("#play")
            page.wait_for_timeout(seconds * 1000)
            s = page.evaluate("window.nnplayStats")
            fps = [x["fps"] for x in s["fpsHistory"] if x["running"]]
            print(f"{name}: fps over {len(fps)} one-second windows while running: min {min(fps):.0f}, mean {sum(fps)/len(fps):.0f}")
            for kind in ("snapshot", "metrics"):
                h = s["handlers"].get(kind)
                if h and h["count"]:
                    print(f"   {kind}: {h['count']} handled, mean {h['meanMs']:.2f} ms, max {h['maxMs']:.1f} ms, over 4 ms: {h['over4ms']}")
            page.close()
        b.close()
finally:
    proc.terminate(); proc.wait(5)
