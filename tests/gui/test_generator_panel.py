"""The generator panel on a small real text project: a tiny model trains in seconds with a live
loss curve; Cancel leaves a checkpoint that Resume continues; Sample N stores pending candidates
while it runs; a TorchScript file is never loaded without the person's confirmation; and the
main window gets the dock and File > Export… without loading torch."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from genaug_desktop.core.generators import GeneratorError, list_checkpoints
from genaug_desktop.core.store.project import Project
import genaug_desktop.core.generators as generators_core
from genaug_desktop.gui import generator_panel as panel_module
from genaug_desktop.gui.generator_panel import GeneratorPanel
from review_helpers import make_image_project, make_text_project

ROOT = Path(__file__).resolve().parents[2]
#: the same tiny settings as tests/core/test_generators.py: a few thousand weights, a second or two
TINY = {"hidden": 16, "embedding": 8, "epochs": 3, "batch_size": 8, "val_fraction": 0.2, "max_chars": 64}


@pytest.fixture
def project(tmp_path: Path):
    p = Project.open(str(make_text_project(tmp_path / "t")))
    yield p
    p.close()


@pytest.fixture
def panel(qtbot, project: Project) -> GeneratorPanel:
    w = GeneratorPanel()
    qtbot.addWidget(w, before_close_func=lambda p: p.shutdown())
    w.resize(1100, 420)
    w.show()
    w.set_project(project)
    w.set_generator("char_gru")
    return w


def idle(qtbot, panel: GeneratorPanel, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=timeout)


def train_tiny(qtbot, panel: GeneratorPanel, **overrides) -> None:
    panel.train_form.set_values({**TINY, **overrides})
    assert panel.train()
    idle(qtbot, panel)


def test_generators_are_listed_and_the_wrong_modality_is_greyed(qtbot, panel: GeneratorPanel) -> None:
    combo = panel.generator_combo
    names = [combo.itemData(i) for i in range(combo.count())]
    assert {"char_gru", "conv_vae"} <= set(names)
    vae = combo.model().item(combo.findData("conv_vae"))
    assert not vae.isEnabled()
    assert "this project holds texts" in combo.itemData(combo.findData("conv_vae"), 3)  # ToolTipRole
    assert panel.train_form is not None and "hidden" in panel.train_form.fields
    assert panel.sample_form is not None and "temperature" in panel.sample_form.fields
    assert panel.round_spin.value() == 0
    assert not panel.sample_button.isEnabled()  # nothing trained yet
    assert not panel.resume_button.isEnabled()


def test_unavailable_generator_says_why(qtbot, monkeypatch, project: Project) -> None:
    rows = [*generators_core.describe_generators(),
            {"name": "big_lm", "modality": "text", "available": False, "why": "needs a GPU", "help": "", "trainable": True}]
    monkeypatch.setattr(generators_core, "describe_generators", lambda: rows)
    w = GeneratorPanel()
    qtbot.addWidget(w, before_close_func=lambda p: p.shutdown())
    w.show()
    w.set_project(project)
    index = w.generator_combo.findData("big_lm")
    assert not w.generator_combo.model().item(index).isEnabled()
    assert "needs a GPU" in w.generator_combo.itemData(index, 3)
    assert w.generator_name == "char_gru"  # the first usable one is chosen


def test_train_draws_the_loss_curve_and_records_a_checkpoint(qtbot, panel: GeneratorPanel, project: Project) -> None:
    trained: list[object] = []
    panel.trained.connect(trained.append)
    train_tiny(qtbot, panel)
    assert panel.last_train is not None, panel.status_label.text()
    assert trained == [panel.last_train]
    assert panel.chart.point_count() >= 2
    assert panel.chart.train and panel.chart.validation
    assert [r.state for r in list_checkpoints(project, "char_gru")] == ["finished"]
    assert panel.sample_button.isEnabled()
    assert panel.checkpoint_combo.count() == 2  # "newest finished" + the checkpoint
    assert panel.progress_bar.isHidden()
    panel.grab().save("/tmp/generator_panel_trained.png")


def test_cancel_leaves_a_resumable_checkpoint_and_resume_continues(qtbot, panel: GeneratorPanel,
                                                                   project: Project) -> None:
    panel.train_form.set_values({**TINY, "epochs": 100_000})  # minutes: it must be cancelled
    assert panel.train()
    qtbot.waitUntil(lambda: panel.chart.point_count() >= 2, timeout=30000)
    assert panel.cancel_button.isVisible()
    panel.cancel_button.click()
    idle(qtbot, panel)
    assert "cancelled" in panel.status_label.text().lower()
    partial = list_checkpoints(project, "char_gru", state="partial")
    assert len(partial) == 1
    assert panel.resume_button.isEnabled()
    points = panel.chart.point_count()

    panel.train_form.set_values({**TINY, "epochs": 100_000, "max_seconds": 1.0})
    assert panel.resume()
    idle(qtbot, panel)
    assert panel.last_train is not None, panel.status_label.text()
    assert panel.last_train.checkpoint.parent == partial[0].sha256  # continued, not restarted
    assert panel.chart.point_count() > points  # the same curve goes on
    assert not panel.resume_button.isEnabled()  # that partial run was continued


def test_sample_n_stores_pending_candidates_while_it_runs(qtbot, panel: GeneratorPanel, project: Project) -> None:
    train_tiny(qtbot, panel)
    before = {c.id for c in project.candidates()}
    added: list[list[int]] = []
    finished: list[list[int]] = []
    panel.candidates_added.connect(added.append)
    panel.sampling_finished.connect(finished.append)
    panel.count_spin.setValue(6)
    panel.sample_seed_spin.setValue(3)
    panel.label_combo.setCurrentIndex(panel.label_combo.findData("positive"))
    panel.sample_form.set_values({"temperature": 0.8, "max_length": 40})
    assert panel.sample()
    idle(qtbot, panel)
    assert panel.last_sample is not None, panel.status_label.text()
    ids = [i for batch in added for i in batch]
    assert len(ids) == 6 and finished == [ids]
    new = [c for c in project.candidates() if c.id not in before]
    assert sorted(c.id for c in new) == sorted(ids)
    assert {c.status for c in new} == {"pending"} and {c.origin for c in new} == {"generator"}
    assert {c.label for c in new} == {"positive"}
    rows = panel.rounds_table.rowCount()
    assert rows >= 1 and panel.rounds_table.item(0, 0).text() == "0"
    assert panel.rounds_table.item(0, 2).text() == "6"


def _fake_torchscript(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/extra/genaug.json", json.dumps({"name": "stranger", "modality": "text", "labels": ["a"]}))
        archive.writestr("model/code/__torch__.py", "print('would run')")
    return path


def test_torchscript_is_not_loaded_without_confirmation(qtbot, monkeypatch, panel: GeneratorPanel,
                                                         tmp_path: Path) -> None:
    path = _fake_torchscript(tmp_path / "stranger.pt")
    calls: list[tuple[str, bool]] = []
    asked: list[str] = []

    def fake_load(p: str, confirmed: bool = False):
        calls.append((p, confirmed))
        raise GeneratorError("not a real module")

    monkeypatch.setattr(generators_core, "load_torchscript", fake_load)
    monkeypatch.setattr(panel_module, "ask_torchscript_path", lambda parent: str(path))
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *a: asked.append(text) or QMessageBox.StandardButton.Cancel)
    assert not panel.load_torchscript_file()
    assert calls == [] and panel.externals == {}
    assert "runs code from that file" in asked[0] and "stranger" in asked[0]
    assert "not trusted" in panel.status_label.text()

    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Yes)
    assert panel.load_torchscript_file()
    idle(qtbot, panel)
    assert calls == [(str(path), True)]
    assert "Cannot load the TorchScript file: not a real module" in panel.status_label.text()


def test_hint_without_a_project(qtbot) -> None:
    w = GeneratorPanel()
    qtbot.addWidget(w)
    w.show()
    assert w.pages.currentIndex() == 0 and w.create_project_button.isHidden()
    w.set_dataset_open(True)
    assert "Create one" in w.hint_label.text() and not w.create_project_button.isHidden()


def test_window_has_the_dock_and_export_follows_the_project(qtbot, make_window, tmp_path: Path,
                                                            image_folder: Path) -> None:
    path = make_text_project(tmp_path / "w")
    window = make_window()
    assert not window.export_action.isEnabled()
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.session.project is not None and window.is_settled(), timeout=30000)
    workspace = window.generators
    assert workspace is not None and workspace.panel.project is window.session.project
    assert window.export_action.isEnabled()
    assert workspace.toggle_action in window.view_menu.actions()

    window.open_path(str(image_folder))  # a plain dataset: no export, the panel's hint
    qtbot.waitUntil(lambda: window.session.state is not None and window.session.state.loaded, timeout=30000)
    assert not window.export_action.isEnabled()
    assert workspace.panel.project is None and workspace.panel.pages.currentIndex() == 0
    assert not workspace.panel.create_project_button.isHidden()


def test_window_with_a_project_and_the_dock_does_not_load_torch(isolated_settings: Path, tmp_path: Path) -> None:
    # An image project: a text project's live policy preview runs nlpaug ops, which load torch
    # by themselves; this test is about the Generators dock.
    path = make_image_project(tmp_path / "p")
    script = textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QEventLoop, QTimer
        from PySide6.QtWidgets import QApplication
        from genaug_desktop.gui.main_window import MainWindow

        app = QApplication([])
        window = MainWindow()
        window.show()
        window.open_path({str(path)!r})
        loop = QEventLoop()
        poll = QTimer(); poll.setInterval(20)
        poll.timeout.connect(lambda: loop.quit() if window.session.project is not None and window.is_settled() else None)
        poll.start()
        QTimer.singleShot(30000, loop.quit)
        loop.exec()
        panel = window.generators.panel  # (the dock's panel is built when first shown or asked for)
        loop.exec()  # until it has listed the generators
        poll.stop()
        assert panel.generator_combo.count() >= 2, panel.generator_combo.count()
        print("HEAVY=" + ",".join(m for m in ("torch",) if m in sys.modules))
        window.close()
    """)
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen", "GENAUG_SETTINGS_DIR": str(isolated_settings)}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout, result.stdout
