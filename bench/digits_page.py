"""Measure the Digits page while it trains MNIST with its default settings, in headless Chromium.

    python bench_digits_page.py http://127.0.0.1:8000/digits [seconds]

Prints: seconds from the Train click to the first test accuracy >= 97 % (the page's own
milestone), the rates of metrics messages and weight-image snapshots the page received (its
"updates" read-out, sampled each second), the page's main-thread busy time (CDP Performance
metrics) and its requestAnimationFrame frame times while training.
"""
import math
import re
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/digits"
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
FRAME_PROBE = """() => { window.__frames = []; let last = performance.now();
  const tick = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)  # wait_for_function evals
        started = time.time()
        page.goto(URL)
        page.wait_for_function("() => !document.querySelector('#train').disabled", timeout=120_000)
        print(f"page load to network built: {time.time() - started:.2f} s")
        box = page.locator("#pad canvas").bounding_box()  # a drawn 0, read by the live network
        page.mouse.move(box["x"] + 140, box["y"] + 55)
        page.mouse.down()
        for k in range(31):
            a = 2 * math.pi * k / 30
            page.mouse.move(box["x"] + 140 + 55 * math.sin(a), box["y"] + 140 - 85 * math.cos(a))
        page.mouse.up()
        page.check("input[name=reader][value=live]")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        busy = lambda: {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        before = busy()
        page.evaluate(FRAME_PROBE)
        clicked = time.time()
        page.click("#train")
        metrics_hz, images_hz = [], []
        while time.time() - clicked < SECONDS:
            page.wait_for_timeout(1000)
            found = re.search(r"metrics (\d+)/s · weight images (\d+)/s", page.locator("#rates").text_content())
            if found and time.time() - clicked > 2:  # the 2 s rate window is full
                metrics_hz.append(int(found[1]))
                images_hz.append(int(found[2]))
        wall = time.time() - clicked
        after = busy()
        frames = sorted(page.evaluate("window.__frames")[5:])
        page.click("#train")
        print("97 % test accuracy after (s):", page.locator("#milestone").get_attribute("data-seconds"))
        print("final:", page.locator("#accuracy").text_content(), "after", page.locator("#epoch").text_content(), "epochs")
        print(f"metrics/s   median {statistics.median(metrics_hz)}, min {min(metrics_hz)}, max {max(metrics_hz)}")
        print(f"weights/s   median {statistics.median(images_hz)}, min {min(images_hz)}, max {max(images_hz)}")
        for key in ("TaskDuration", "ScriptDuration"):
            print(f"main thread {key}: {100 * (after[key] - before[key]) / wall:.1f} % of {wall:.0f} s")
        n = len(frames)
        print(f"rAF frame times over {n} frames: median {frames[n // 2]:.1f} ms, p95 {frames[int(n * .95)]:.1f} ms, "
              f"p99 {frames[int(n * .99)]:.1f} ms, max {frames[-1]:.1f} ms, over 50 ms: {sum(f > 50 for f in frames)}")
        browser.close()


if __name__ == "__main__":
    main()
