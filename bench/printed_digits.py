"""Printed digits: 0–9 typed in TrueType/OpenType fonts and handed over like a canvas drawing.

    python bench/printed_digits.py [--model engine/pretrained/digits.npz] [--n 5000] [--seed 0]
                                   [--fonts held_out|training|all] [--font-dir DIR ...]

builds the set (deterministic from the seed and the fonts found) and prints the model's accuracy
on it, overall, per canvas style and per font family. One printed digit:

    1. a font from the chosen group, the digit in it (labels cycle 0..9, then shuffled)
    2. the glyph drawn anti-aliased at FONT_PX, cropped to its ink, rotated by U(±ROTATION)°
    3. scaled to a height of U(HEIGHT_RANGE) px (at most WIDTH_MAX wide), pasted at a random place
       on a 280 × 280 canvas, handed over in a random style (bench/drawn_digits.STYLES)
    4. read back with engine.digits.to_mnist, as the server reads a drawing

Fonts are every .ttf/.otf file under the font directories (default FONT_DIRS) that has ten
distinct, non-empty digits (symbol fonts drop out). Whole families are held out from training:
a family is held out when crc32(family name) % HOLD_OUT_EVERY == 0, so the held-out figures are
for typefaces the model never saw. bench/get_fonts.sh fetches the fonts the committed model used.
"""
from __future__ import annotations

import argparse
import os
import sys
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from bench import drawn_digits  # noqa: E402
from engine import digits  # noqa: E402

FONT_DIRS = (Path("/usr/share/fonts"), Path.home() / ".cache" / "nnplay" / "fonts")
FONT_PX = 160               # glyphs are drawn at this size, then scaled
ROTATION = 8.0              # degrees, either way
HEIGHT_RANGE = (90, 240)    # glyph height on the canvas, px
WIDTH_MAX = 250
HOLD_OUT_EVERY = 4
GROUPS = ("held_out", "training", "all")


@lru_cache(maxsize=None)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, FONT_PX)


def glyph(path: str, digit: int) -> np.ndarray:
    """The digit drawn in the font at FONT_PX, cropped to its ink: (h, w) uint8, 255 = ink."""
    font = _font(path)
    image = Image.new("L", (2 * FONT_PX, 2 * FONT_PX), 0)
    ImageDraw.Draw(image).text((FONT_PX // 2, FONT_PX // 4), str(digit), fill=255, font=font)
    box = image.getbbox()
    return np.asarray(image.crop(box)) if box else np.zeros((0, 0), np.uint8)


def family(path: str) -> str:
    return _font(path).getname()[0]


def usable(path: str) -> bool:
    """True when the font draws ten distinct, non-empty digits."""
    try:
        shapes = [glyph(path, d) for d in range(10)]
    except OSError:
        return False
    return all(s.size and s.max() > 128 for s in shapes) and len({s.tobytes() for s in shapes}) == 10


def fonts(group: str = "all", dirs=None) -> list[str]:
    """Sorted font files of a group: "held_out" families, "training" families, or "all"."""
    found = []
    for d in dirs or FONT_DIRS:
        found += [str(p) for p in Path(d).expanduser().rglob("*") if p.suffix.lower() in (".ttf", ".otf")]
    paths = sorted(p for p in set(found) if usable(p))
    if group == "all":
        return paths
    held = [zlib.crc32(family(p).encode()) % HOLD_OUT_EVERY == 0 for p in paths]
    return [p for p, h in zip(paths, held) if h == (group == "held_out")]


def canvas(path: str, digit: int, rng: np.random.Generator, style: str):
    """One printed digit on a 280 × 280 canvas in ``style`` (module docstring, steps 2–3)."""
    ink = Image.fromarray(glyph(path, digit)).rotate(rng.uniform(-ROTATION, ROTATION), Image.Resampling.BICUBIC,
                                                     expand=True)
    ink = ink.crop(ink.getbbox())
    scale = min(rng.uniform(*HEIGHT_RANGE) / ink.height, WIDTH_MAX / ink.width)
    ink = ink.resize((max(1, round(ink.width * scale)), max(1, round(ink.height * scale))), Image.Resampling.LANCZOS)
    q = np.zeros((drawn_digits.CANVAS, drawn_digits.CANVAS), np.uint8)
    top = rng.integers(5, max(6, drawn_digits.CANVAS - 5 - ink.height))
    left = rng.integers(5, max(6, drawn_digits.CANVAS - 5 - ink.width))
    q[top:top + ink.height, left:left + ink.width] = np.asarray(ink)[:drawn_digits.CANVAS - top, :drawn_digits.CANVAS - left]
    return drawn_digits.in_style(q, style, rng)


def printed_set(font_paths: list[str], n: int, seed: int = 0):
    """(X (n, 784) float32 in [0, 1] as to_mnist reads the canvases, labels (n,), [(family, style)])."""
    if not font_paths:
        raise ValueError("no usable fonts found: install some or run bench/get_fonts.sh")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    chosen = rng.integers(0, len(font_paths), n)
    X, info = np.empty((n, 784), np.float32), []
    for i, (digit, f) in enumerate(zip(labels, chosen)):
        style = drawn_digits.STYLES[rng.integers(len(drawn_digits.STYLES))]
        X[i] = digits.to_mnist(canvas(font_paths[f], int(digit), rng, style)).ravel()
        info.append((family(font_paths[f]), style))
    return X, labels, info


def accuracy_by(network, X, labels, info) -> dict[str, float]:
    """{"all": accuracy, style: accuracy ..., "family <name>": accuracy ...} on a printed set."""
    correct = network.classify(network.forward(X)) == labels
    result = {"all": float(correct.mean())}
    for key, values in (("style", [s for _, s in info]), ("family", [f for f, _ in info])):
        values = np.array(values)
        for value in sorted(set(values)):
            result[value if key == "style" else f"family {value}"] = float(correct[values == value].mean())
    return result


def main():
    from engine import modelfile

    parser = argparse.ArgumentParser(description="Build the printed-digit set and measure a model on it.")
    parser.add_argument("--model", type=Path, default=REPO / "engine" / "pretrained" / "digits.npz")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fonts", choices=GROUPS, default="held_out")
    parser.add_argument("--font-dir", type=Path, action="append", help=f"default: {', '.join(map(str, FONT_DIRS))}")
    args = parser.parse_args()
    paths = fonts(args.fonts, args.font_dir)
    X, labels, info = printed_set(paths, args.n, args.seed)
    network, _ = modelfile.load(args.model)
    print(f"model {args.model}; {args.n} printed digits, seed {args.seed}, {args.fonts} fonts: "
          f"{len(paths)} files, {len({family(p) for p in paths})} families")
    for name, value in accuracy_by(network, X, labels, info).items():
        print(f"printed accuracy, {name}: {value:.4f}")


if __name__ == "__main__":
    main()
