"""Measure the Digits page while it trains MNIST from the page, in headless Chromium.

    python bench/digits_page.py [--url http://127.0.0.1:8000/digits] [--seconds 45] [--arch dense|conv]

``--arch conv`` picks the convolutional architecture (its default layers) before Train. Prints:
seconds from the Train click to the page's milestone (97 % for dense, 98.5 % for conv: the
preset's ``milestone``, read from the page's own read-out), the rates of metrics messages and
weight-image snapshots the page received (its "updates" read-out, sampled each second), the page's
main-thread busy time (CDP Performance metrics) and its requestAnimationFrame frame times: while
training alone, and while training with a digit being drawn on the pad (each stroke is read by the
pretrained reader and its feature maps drawn) — fps = 1000 / median frame time.
"""
import argparse
import math
import re
import statistics
import time

from playwright.sync_api import sync_playwright

FRAME_PROBE = """() => { window.__frames = []; let last = performance.now();
  const tick = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def draw_zero(page, box, points=31, pause_ms=0):
    """A 0 on the pad, as a mouse would draw it; ``pause_ms`` between moves draws it at hand speed."""
    page.mouse.move(box["x"] + 140, box["y"] + 55)
    page.mouse.down()
    for k in range(points):
        a = 2 * math.pi * k / (points - 1)
        page.mouse.move(box["x"] + 140 + 55 * math.sin(a), box["y"] + 140 - 85 * math.cos(a))
        if pause_ms:
            page.wait_for_timeout(pause_ms)
    page.mouse.up()


def frame_times(page) -> list[float]:
    return sorted(page.evaluate("window.__frames")[5:])


def describe(frames: list[float]) -> str:
    n = len(frames)
    median = frames[n // 2]
    return (f"{n} frames: median {median:.1f} ms ({1000 / median:.0f} fps), p95 {frames[int(n * .95)]:.1f} ms, "
            f"p99 {frames[int(n * .99)]:.1f} ms, max {frames[-1]:.1f} ms, over 50 ms: {sum(f > 50 for f in frames)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/digits")
    parser.add_argument("--seconds", type=float, default=45.0, help="how long to train")
    parser.add_argument("--arch", choices=("dense", "conv"), default="dense")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)  # wait_for_function evals
        started = time.time()
        page.goto(args.url)
        page.wait_for_function("() => !document.querySelector('#train').disabled", timeout=120_000)
        if args.arch == "conv":
            page.select_option("select[name=architecture]", "conv")
            page.wait_for_function("() => !document.querySelector('#train').disabled", timeout=120_000)
        print(f"page load to network built: {time.time() - started:.2f} s ({args.arch})")
        box = page.locator("#pad canvas").bounding_box()
        draw_zero(page, box)
        page.check("input[name=reader][value=live]")   # the drawn 0 is read by the network training here
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        busy = lambda: {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        before = busy()
        page.evaluate(FRAME_PROBE)
        clicked = time.time()
        page.click("#train")
        metrics_hz, images_hz = [], []
        while time.time() - clicked < args.seconds:
            page.wait_for_timeout(1000)
            found = re.search(r"metrics (\d+)/s · weight images (\d+)/s", page.locator("#rates").text_content())
            if found and time.time() - clicked > 2:  # the 2 s rate window is full
                metrics_hz.append(int(found[1]))
                images_hz.append(int(found[2]))
        wall = time.time() - clicked
        after = busy()
        training = frame_times(page)
        page.check("input[name=reader][value=pretrained]")   # draw for the pretrained reader while it trains
        page.evaluate(FRAME_PROBE)
        for _ in range(4):
            page.click("#clear")
            draw_zero(page, box, points=61, pause_ms=16)
        drawing = frame_times(page)
        page.click("#train")
        milestone = page.locator("#milestone")
        print("milestone:", milestone.text_content() or "not reached",
              f"(data-seconds={milestone.get_attribute('data-seconds')})")
        print("final:", page.locator("#accuracy").text_content(), "after", page.locator("#epoch").text_content(), "epochs")
        print(f"metrics/s   median {statistics.median(metrics_hz)}, min {min(metrics_hz)}, max {max(metrics_hz)}")
        print(f"weights/s   median {statistics.median(images_hz)}, min {min(images_hz)}, max {max(images_hz)}")
        for key in ("TaskDuration", "ScriptDuration"):
            print(f"main thread {key}: {100 * (after[key] - before[key]) / wall:.1f} % of {wall:.0f} s")
        print("rAF while training:", describe(training))
        print("rAF while training and drawing:", describe(drawing))
        browser.close()


if __name__ == "__main__":
    main()
