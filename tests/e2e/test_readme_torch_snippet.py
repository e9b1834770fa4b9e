"""README's "From training code" snippet runs as written on a real export of mixed-size images
(made with the README's own export command), and the failure it warns about is real."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from cli_helpers import genaug  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PRESET = ROOT / "resources" / "presets" / "image_medium.json"


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("**From training code**")
    return text[start:text.index("\n**", start + 10)]


def readme_snippet() -> tuple[list[str], str]:
    """(the export command's arguments, the Python code) of the README's training-code snippet."""
    section = _readme_section()
    command = next(line for line in re.findall(r"```\n(.*?)```", section, re.S)[0].splitlines()
                   if line.startswith("genaug export"))
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    return shlex.split(command)[1:], code


@pytest.fixture(scope="module")
def mixed_project(tmp_path_factory) -> Path:
    """Shapes of different sizes, some grey, some colour: what a folder of real images looks like."""
    root = tmp_path_factory.mktemp("readme")
    rng = np.random.Generator(np.random.PCG64(5))
    for label in ("circle", "square", "triangle"):
        (root / "shapes" / label).mkdir(parents=True)
        for i in range(5):
            w, h = int(rng.integers(30, 90)), int(rng.integers(30, 90))
            img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            (img.convert("L") if i % 3 == 0 else img).save(root / "shapes" / label / f"{label}{i}.png")
    proc = genaug("init", str(root / "shapes.genaug"), str(root / "shapes"))
    assert proc.returncode == 0, proc.stderr
    (root / "policy.json").write_bytes(PRESET.read_bytes())
    return root


def test_the_readme_snippet_runs_on_a_mixed_size_export(mixed_project, monkeypatch):
    args, code = readme_snippet()
    assert "--size" in args, "the README must export at one size for batches to stack"
    proc = genaug(*args, cwd=mixed_project)
    assert proc.returncode == 0, proc.stderr
    monkeypatch.chdir(mixed_project)
    first = Image.open(next((mixed_project / "shapes" / "circle").glob("*.png")))
    namespace = {"pil_image_or_array_or_text": first}
    exec(compile(code.replace("num_workers=4", "num_workers=2"), "README.md", "exec"), namespace)
    images, labels = namespace["images"], namespace["labels"]
    assert images.dtype == torch.float32 and images.ndim == 4 and tuple(images.shape[1:]) == (3, 64, 64)
    assert labels.dtype == torch.int64 and len(labels) == len(images)
    assert namespace["out"].size == first.size and isinstance(namespace["drawn"], list)


def test_without_size_the_loader_fails_as_the_readme_says(mixed_project):
    from genaug_desktop.torch_data import ExportDataset, PolicyTransform

    out = mixed_project / "unsized"
    proc = genaug("export", "shapes.genaug", "--out", str(out), "--format", "imagefolder", "--include-originals",
                  "--color", "rgb", cwd=mixed_project)
    assert proc.returncode == 0, proc.stderr
    ds = ExportDataset(str(out), transform=PolicyTransform(str(mixed_project / "policy.json")))
    loader = torch.utils.data.DataLoader(ds, batch_size=8)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        next(iter(loader))
    assert "stack expects each tensor to be equal size" in " ".join(_readme_section().split())
    assert os.path.isdir(out)
