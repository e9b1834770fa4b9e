"""(Re)generate the bundled sample datasets that ``genaug-desktop --demo`` opens.

Standalone: needs only Pillow and numpy, and is deterministic (fixed seed), so running it
again gives the same pictures and the same text. Run from anywhere::

    python resources/make_sample.py

It rewrites ``resources/sample/images/`` and ``resources/sample/texts/`` from scratch.

A few files are broken or unusual ON PURPOSE, so that the demo shows the app's problem
reporting and its EXIF / colour-mode handling:

* ``images/square/broken_truncated.png``: a valid PNG cut to half its bytes.
* ``images/triangle/empty.jpg``: zero bytes.
* ``images/circle/photo_exif.jpg``: a JPEG whose pixels are stored sideways, with EXIF
  orientation 6 (display rotated 90 degrees clockwise); shown upright it is 64x48.
* ``images/square/square_gray.png``: greyscale (mode ``L``).
* ``images/triangle/triangle_palette.png``: palette (mode ``P``).
* ``texts/reviews.csv``: one row with an extra unquoted comma (3 fields instead of 2) and
  one row with a stray quote inside a quoted field (malformed CSV).
"""

from __future__ import annotations

import colorsys
import csv
import io
import math
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SEED = 20240611
SIZE = 64  # final image side, pixels
SCALE = 4  # draw at SCALE x SIZE, then downsample with LANCZOS (anti-aliasing)
PER_CLASS = 16
CLASSES = ("circle", "square", "triangle")

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "sample"


# --------------------------------------------------------------------------- images


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def _background(rng: np.random.Generator, w: int, h: int, hue: float) -> np.ndarray:
    """A soft two-colour gradient at a random angle with a gentle low-frequency texture (float HxWx3)."""
    c1 = np.array(_rgb(hue, rng.uniform(0.08, 0.30), rng.uniform(0.80, 0.97)), dtype=np.float32)
    c2 = np.array(_rgb(hue + rng.uniform(-0.12, 0.12), rng.uniform(0.15, 0.40), rng.uniform(0.55, 0.80)),
                  dtype=np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx / max(w - 1, 1) - 0.5) * math.cos(angle) + (yy / max(h - 1, 1) - 0.5) * math.sin(angle)
    t = np.clip(t / 1.42 + 0.5, 0.0, 1.0)[..., None]
    img = c1 * (1.0 - t) + c2 * t
    # Low-frequency texture: a few random values blown up smoothly (like paper or cloth).
    coarse = rng.normal(0.0, 1.0, size=(5, 5)).astype(np.float32)
    tex = Image.fromarray(((coarse - coarse.min()) / (np.ptp(coarse) + 1e-6) * 255).astype(np.uint8), "L")
    tex = np.asarray(tex.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0 - 0.5
    return img + tex[..., None] * rng.uniform(10.0, 22.0)


def _shape_points(kind: str, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    corners = {"square": 4, "triangle": 3}[kind]
    # A square's "radius" is its half-diagonal; shrink so squares and circles look similar in size.
    rr = r * (1.25 if kind == "square" else 1.3)
    return [
        (cx + rr * math.cos(rot + 2 * math.pi * k / corners), cy + rr * math.sin(rot + 2 * math.pi * k / corners))
        for k in range(corners)
    ]


def _draw_shape(draw: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float, rot: float,
                fill, outline, width: int) -> None:
    if kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=outline, width=width)
    else:
        pts = _shape_points(kind, cx, cy, r, rot)
        draw.polygon(pts, fill=fill)
        if outline is not None and width > 0:
            draw.line(pts + [pts[0]], fill=outline, width=width, joint="curve")


def make_shape_image(kind: str, rng: np.random.Generator, w: int = SIZE, h: int = SIZE,
                     center: tuple[float, float] | None = None) -> Image.Image:
    """One little picture: a shape with a soft shadow on a textured gradient, anti-aliased, lightly noisy."""
    W, H = w * SCALE, h * SCALE
    bg_hue = rng.uniform(0, 1)
    base = _background(rng, W, H, bg_hue)
    canvas = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")

    # Shape colour: saturated, hue well away from the background's so the shape stands out.
    hue = bg_hue + rng.uniform(0.3, 0.7)
    fill = _rgb(hue, rng.uniform(0.55, 0.95), rng.uniform(0.45, 0.90))
    outline = tuple(int(c * 0.6) for c in fill)

    side = min(W, H)
    r = rng.uniform(0.20, 0.34) * side
    margin = r * 1.25 + 2 * SCALE
    if center is None:
        cx = rng.uniform(margin, W - margin)
        cy = rng.uniform(margin, H - margin)
    else:
        cx, cy = center[0] * SCALE, center[1] * SCALE
    rot = rng.uniform(0, 2 * math.pi)

    # Soft drop shadow.
    shadow = Image.new("L", (W, H), 0)
    dx, dy = rng.uniform(1.5, 3.5) * SCALE, rng.uniform(1.5, 3.5) * SCALE
    _draw_shape(ImageDraw.Draw(shadow), kind, cx + dx, cy + dy, r, rot, 110, None, 0)
    shadow = shadow.filter(ImageFilter.GaussianBlur(3 * SCALE))
    canvas.paste((20, 20, 30), (0, 0), shadow)

    # The shape, with a darker rim and a faint highlight towards the top left.
    draw = ImageDraw.Draw(canvas)
    _draw_shape(draw, kind, cx, cy, r, rot, fill, outline, max(2, int(0.9 * SCALE)))
    hl = Image.new("L", (W, H), 0)
    _draw_shape(ImageDraw.Draw(hl), kind, cx - r * 0.18, cy - r * 0.18, r * 0.55, rot, 70, None, 0)
    hl = hl.filter(ImageFilter.GaussianBlur(2.5 * SCALE))
    mask = Image.new("L", (W, H), 0)
    _draw_shape(ImageDraw.Draw(mask), kind, cx, cy, r * 0.92, rot, 255, None, 0)
    hl = Image.fromarray((np.asarray(hl, np.uint16) * np.asarray(mask, np.uint16) // 255).astype(np.uint8), "L")
    canvas.paste((255, 255, 255), (0, 0), hl)

    small = canvas.resize((w, h), Image.Resampling.LANCZOS)
    # A bit of sensor-like noise at the final resolution (kept small: noise costs PNG bytes).
    arr = np.asarray(small, dtype=np.float32)
    arr += rng.normal(0.0, 1.6, size=arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def make_images(root: Path, seed: int) -> None:
    for ci, kind in enumerate(CLASSES):
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(PER_CLASS):
            rng = np.random.default_rng([seed, ci, i])
            (folder / f"{kind}_{i:03d}.png").write_bytes(_png_bytes(make_shape_image(kind, rng)))

    # Greyscale ('L') and palette ('P') PNGs.
    gray = make_shape_image("square", np.random.default_rng([seed, 100])).convert("L")
    (root / "square" / "square_gray.png").write_bytes(_png_bytes(gray))
    pal = make_shape_image("triangle", np.random.default_rng([seed, 101])).quantize(
        colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    (root / "triangle" / "triangle_palette.png").write_bytes(_png_bytes(pal))

    # A JPEG "photo" with EXIF orientation 6: the pixels are stored rotated 90 degrees
    # counter-clockwise; a viewer that honours the tag turns them back upright. Upright it is a
    # landscape 64x48 picture with the circle high up ("sun over a horizon"), so a wrong
    # orientation is easy to spot.
    upright = make_shape_image("circle", np.random.default_rng([seed, 102]), w=64, h=48, center=(22.0, 16.0))
    arr = np.asarray(upright, dtype=np.float32)
    arr[34:, :, :] = arr[34:, :, :] * 0.55 + np.array([40, 70, 30], np.float32) * 0.45  # darker ground
    upright = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # 48x64 as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    stored.save(root / "circle" / "photo_exif.jpg", format="JPEG", quality=88, exif=exif.tobytes())

    # Broken on purpose.
    good = _png_bytes(make_shape_image("square", np.random.default_rng([seed, 103])))
    (root / "square" / "broken_truncated.png").write_bytes(good[: len(good) // 2])
    (root / "triangle" / "empty.jpg").write_bytes(b"")


# --------------------------------------------------------------------------- texts

REVIEWS: list[tuple[str, str]] = [
    # positive
    ("Arrived two days early and the battery easily lasts a full week of commuting.", "positive"),
    ("Honestly the best kettle I have owned; it boils fast and the lid never sticks.", "positive"),
    ("Comfortable straps, sturdy zips, and it swallowed everything I packed for a long weekend.", "positive"),
    ("The blender crushes ice without complaint and cleans up in under a minute.", "positive"),
    ("My daughter adores this puzzle, and the pieces are thick enough to survive a toddler.", "positive"),
    ("Sound is crisp, the bass is warm, and pairing with my phone took seconds.", "positive"),
    ("Great value for money. I bought a second one for the office.", "positive"),
    ("The instructions were clear and assembly took twenty minutes with the included tools.", "positive"),
    ("Soft fabric, true to size, and the colour stayed bright after many washes.", "positive"),
    ("Customer service replaced a cracked lid within a week, no questions asked.", "positive"),
    ("This lamp makes my desk feel calm; the dimmer is smooth and silent.", "positive"),
    ("Surprisingly light for its size, and the wheels glide over cobblestones.", "positive"),
    ("Keeps coffee hot until lunchtime. Worth every penny!", "positive"),
    ("The knife holds its edge beautifully and feels balanced in the hand.", "positive"),
    ("Setup was painless and the app actually works, which is rare these days.", "positive"),
    ("These running shoes cushion my knees on long runs, and no blisters so far.", "positive"),
    ("A lovely cookbook: the crème brûlée recipe worked perfectly the first time.", "positive"),
    ("Quiet fan, strong airflow, and the little remote is a nice touch.", "positive"),
    ("Perfect gift for my dad, who now waters his tomatoes with it every morning.", "positive"),
    ("Crisp screen, snappy keyboard, and a pleasantly small charger. Ten out of ten.", "positive"),
    # negative
    ("Stopped charging after three weeks and the seller ignored my emails.", "negative"),
    ("The zipper broke on the first trip, and the stitching is already fraying.", "negative"),
    ("Far too loud for a bedroom; it rattles every time the compressor starts.", "negative"),
    ("Smelled strongly of plastic for days, even after washing it twice.", "negative"),
    ("The colour looks nothing like the photos, more muddy brown than olive.", "negative"),
    ("Instructions missing, two screws missing, and by the end my patience was missing too.", "negative"),
    ("Way too small. I ordered a large and it fits like a child's medium.", "negative"),
    ("The app crashes constantly and forgets my settings after every update.", "negative"),
    ("The flimsy handle snapped off while I was pouring hot soup. Dangerous design.", "negative"),
    ("Battery drains overnight even when the device is switched off.", "negative"),
    ("Arrived dented, with a cracked glass panel and no packing material at all.", "negative"),
    ("Tastes stale and the bag was half empty. Not buying again.", "negative"),
    ("The mouse double-clicks on its own, which makes dragging files impossible.", "negative"),
    ("Returned it: the blades were dull after a month of light use.", "negative"),
    ('The "waterproof" label is optimistic; it survived drizzle, but not real rain.', "negative"),
    ("Wobbly legs, sharp edges, and the drawer sticks every single time.", "negative"),
    ("Bluetooth keeps dropping out whenever I walk into the next room.", "negative"),
    ("The paint chipped within days and rust appeared soon after.", "negative"),
    ("Support put me on hold for an hour, then simply hung up.", "negative"),
    ("Uncomfortable after ten minutes; the padding is thin and the seams dig in.", "negative"),
    # neutral
    ("It does what the description says, nothing more and nothing less.", "neutral"),
    ("Delivery took about a week, which was roughly what I expected.", "neutral"),
    ("Average build quality for the price; time will tell how it holds up.", "neutral"),
    ("The blue version is slightly darker than pictured, but that is fine.", "neutral"),
    ("I have only used it twice so far, so it is too early to judge.", "neutral"),
    ("Works with my older phone, although the cable is rather short.", "neutral"),
    ("Packaging was plain cardboard, and the item inside was intact.", "neutral"),
    ("Very similar to the previous model, just with a different button layout.", "neutral"),
    ("It fits the shelf, but only just, so measure your space first.", "neutral"),
    ("Neither great nor terrible. A decent backup for travelling.", "neutral"),
    ("The manual comes in five languages and the English section is brief.", "neutral"),
    ("Bought it for €30 in a sale; at full price I might have looked elsewhere.", "neutral"),
    ("Heats up in about four minutes, and the handle gets warm, not hot.", "neutral"),
    ("My partner likes it; I am still undecided about the texture.", "neutral"),
    ("Sizes match the chart: I am a medium, ordered a medium, and it fits like a medium.", "neutral"),
    ("Comes with a carry pouch, though no spare ear tips are included.", "neutral"),
    ("The scent is mild, closer to soap than to lavender.", "neutral"),
    ("It replaced my old one, which lasted six years, so we will see.", "neutral"),
    ("Battery life matches the claim on the box of roughly eight hours.", "neutral"),
    ("Standard charger, standard cable, and a quick-start card in the box.", "neutral"),
]

#: Written raw (not through the csv module) so that they stay broken.
BAD_ROWS = {
    # An unquoted comma: 3 fields instead of 2.
    17: "Great little speaker, loud enough for the garden,positive",
    # A stray quote inside a quoted field: malformed CSV.
    43: '"The lid is "mostly" fine but squeaks",neutral',
}


def make_texts(root: Path, seed: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rows = list(REVIEWS)
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(len(rows))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["text", "label"])
    lines = [buf.getvalue()]
    for n, idx in enumerate(order):
        if n in BAD_ROWS:
            lines.append(BAD_ROWS[n] + "\n")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(rows[idx])
        lines.append(buf.getvalue())
    (root / "reviews.csv").write_bytes("".join(lines).encode("utf-8"))


# --------------------------------------------------------------------------- readme

README = """\
# Sample datasets for `genaug-desktop --demo`

- `images/`: an ImageFolder-style class tree (`circle/`, `square/`, `triangle/`), 16 small
  64x64 RGB PNG pictures per class: a shape with a soft shadow on a textured gradient.
- `texts/reviews.csv`: about 60 short product reviews, columns `text,label`, labels
  `positive`, `negative`, `neutral`.
- Some files are broken or unusual ON PURPOSE, to show problem reporting and format handling:
  `images/square/broken_truncated.png` (cut in half), `images/triangle/empty.jpg` (0 bytes),
  `images/circle/photo_exif.jpg` (EXIF orientation 6), `images/square/square_gray.png` (mode L),
  `images/triangle/triangle_palette.png` (mode P), and two bad rows in `reviews.csv`
  (one with 3 fields, one with a stray quote).
- Everything here is generated by `resources/make_sample.py` (deterministic); do not edit by hand.
"""


def main() -> None:
    for sub in ("images", "texts"):
        target = SAMPLE / sub
        if target.exists():
            shutil.rmtree(target)
    make_images(SAMPLE / "images", SEED)
    make_texts(SAMPLE / "texts", SEED)
    (SAMPLE / "README.md").write_text(README, encoding="utf-8")
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    print(f"wrote {SAMPLE} ({total / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
