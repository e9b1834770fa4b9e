"""Without Ray installed, ``--engine ray`` is one clear line (exit 2) and the GUI says so;
these tests hide Ray, so they run whether or not it is installed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from genaug_desktop.core.augment import augment_job
from genaug_desktop.core.engine import INSTALL_HINT, Engine, EngineError, EngineUnavailable, as_engine
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.policy import Policy
from genaug_desktop.core.rules import filter_job

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from cli_helpers import assert_one_clear_line, genaug  # noqa: E402

POLICY = Path(__file__).resolve().parents[1] / "data" / "policies" / "image_light_v1.json"

HIDE_RAY = '''
import sys

class _NoRay:
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError("No module named 'ray'", name="ray")
        return None

sys.meta_path.insert(0, _NoRay())
'''


@pytest.fixture()
def no_ray_env(tmp_path, monkeypatch):
    """Subprocesses started with this environment cannot import Ray."""
    site = tmp_path / "no_ray_site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE_RAY, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(site))


@pytest.mark.parametrize("command", [
    ["augment", "{project}", "--policy", str(POLICY), "--engine", "ray"],
    ["filter", "{project}", "--engine", "ray"],
    ["export", "{project}", "--out", "{out}", "--format", "imagefolder", "--include-originals", "--engine", "ray"],
], ids=["augment", "filter", "export"])
def test_engine_ray_without_ray_is_one_line_saying_how_to_install(no_ray_env, image_project, tmp_path, command):
    args = [a.format(project=image_project.path, out=tmp_path / "out") for a in command]
    proc = genaug(*args)
    assert_one_clear_line(proc, "Ray Data", INSTALL_HINT)
    assert not (tmp_path / "out").exists()
    assert image_project.query("SELECT COUNT(*) FROM candidates")[0][0] == 0


def test_ray_address_needs_the_ray_engine(image_project):
    assert_one_clear_line(genaug("filter", image_project.path, "--ray-address", "auto"), "--ray-address needs --engine ray")


def test_jobs_refuse_a_missing_ray_before_doing_anything(monkeypatch, image_project):
    import genaug_desktop.core.engine as engine

    monkeypatch.setattr(engine, "ray_installed", lambda: False)
    policy = Policy.from_json(json.loads(POLICY.read_text(encoding="utf-8")))
    with pytest.raises(EngineUnavailable, match=r'pip install "genaug-desktop\[ray\]"'):
        run_job(augment_job(image_project, policy, engine="ray"))
    with pytest.raises(EngineUnavailable):
        run_job(filter_job(image_project, engine="ray"))
    assert image_project.query("SELECT COUNT(*) FROM candidates")[0][0] == 0


def test_engine_names_are_checked():
    assert as_engine(None) == Engine("local") and as_engine("ray", workers=3) == Engine("ray", workers=3)
    with pytest.raises(EngineError, match="unknown engine 'spark'"):
        as_engine("spark")
    with pytest.raises(EngineError, match="only makes sense with the ray engine"):
        Engine("local", address="auto")
