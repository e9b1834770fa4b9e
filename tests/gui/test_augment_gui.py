"""Batch augmentation from the window: the docked editor, the Augment… dialog, project creation for a
plain dataset, a real augment_job through the worker with progress and cancel, the new candidates in the
Review tab."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.core.jobs import run_job
from genaug_desktop.core.store.project import Project, init_project_job
from genaug_desktop.gui.augment_dialog import AugmentController, AugmentDialog, AugmentOptions
from gui_helpers import wait_loaded

GOOD_IMAGES = 10  # image_folder: 11 items, one of which cannot be decoded


def make_project(dataset: Path, where: Path) -> Path:
    project = run_job(init_project_job(str(where), str(dataset)))
    project.close()
    return where


def answer_dialog(monkeypatch: pytest.MonkeyPatch, **choices: Any) -> list[int]:
    """Make the Augment… dialog accept itself with *choices* (per_item, workers, selected, balance);
    the returned list receives the dialog's estimate of new candidates."""
    shown: list[int] = []

    def accept(dialog: AugmentDialog) -> bool:
        dialog.per_item_spin.setValue(choices.get("per_item", 1))
        dialog.workers_spin.setValue(choices.get("workers", 1))
        if choices.get("selected"):
            dialog.selected_radio.setChecked(True)
        if "balance" in choices:
            dialog.balance_radio.setChecked(True)
            dialog.balance_spin.setValue(choices["balance"])
        shown.append(dialog.estimate())
        return True

    monkeypatch.setattr(AugmentController, "ask_options", staticmethod(accept))
    return shown


def wait_augmented(qtbot, window, timeout: int = 60000) -> None:
    controller = window.augmentation.controller
    qtbot.waitUntil(lambda: not controller.is_busy and window.curation.review.is_settled()
                    and any(m.startswith("Augmentation") for _l, m in window.message_bar.history), timeout=timeout)


def test_editor_is_docked_and_previews_the_grid_selection(qtbot, make_window, image_folder: Path) -> None:
    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    aug = window.augmentation
    assert aug is not None and aug.dock.isVisible()
    # The editor is made once the op registry is imported in the background (reading aug.editor
    # before that would make it on the spot, after the dock's widget was read).
    qtbot.waitUntil(lambda: aug.has_editor, timeout=20000)
    assert aug.dock.widget() is aug.editor
    assert aug.editor.modality == "image" and aug.editor.document["steps"]  # starts from the light preset
    window.grid.select_key("dog/dog_01.png")
    qtbot.waitUntil(lambda: aug.editor.preview.last_result is not None
                    and aug.editor.preview.last_result.request.source.key == "dog/dog_01.png" and aug.editor.is_settled(),
                    timeout=20000)
    assert len(aug.editor.preview.view.tile_model.tiles) == 9
    window.toggle_editor_action.trigger()
    assert not aug.dock.isVisible()
    window.toggle_editor_action.trigger()
    assert aug.dock.isVisible()
    assert {a.text().replace("&", "") for a in window.policy_menu.actions()} >= {"Save Policy", "Augment…"}
    window.close_dataset()
    assert not aug.dock.isVisible()  # the welcome page has no editor


def test_augment_on_a_project_makes_candidates_that_appear(qtbot, make_window, image_folder: Path, tmp_path: Path,
                                                            monkeypatch) -> None:
    project_dir = make_project(image_folder, tmp_path / "pets.genaug")
    shown = answer_dialog(monkeypatch, per_item=2, workers=1)
    window = make_window()
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    aug = window.augmentation
    review = window.curation.review
    assert review.project is not None
    assert [aug.grid_tabs.tabText(i) for i in range(aug.grid_tabs.count())] == ["Items", "Review"]
    busy: list[bool] = []
    aug.controller.busy_changed.connect(busy.append)
    progress: list[Any] = []
    aug.controller.progress_changed.connect(progress.append)
    aug.editor.augment_button.click()
    wait_augmented(qtbot, window)
    assert shown == [2 * 11]
    result = aug.controller.last_result
    assert result is not None and result.created == 2 * GOOD_IMAGES and len(result.failures) == 1
    assert busy[0] is True and busy[-1] is False and not window.progress_bar.isVisible()
    assert progress and "of 22" in progress[-1].message  # the job's message, with its rate and ETA
    level, text = window.message_bar.history[-1]
    assert level == "warning" and "20 candidates made" in text and "1 items failed" in text
    qtbot.waitUntil(lambda: review.model.rowCount() == 20, timeout=10000)
    # What was made shows where it is reviewed: one list of candidates, not two that disagree.
    assert aug.grid_tabs.currentWidget() is review
    assert aug.grid_tabs.tabText(1) == "Review (20 pending)"
    first = review.model.review_row(0)
    assert first.status == "pending" and first.blob is not None
    assert Path(window.session.project.blob_file(first.blob)).is_file()
    tooltip = review.model.index(0).data(3)
    assert f"#{first.id}" in tooltip and "augmentation" in tooltip
    with Project.open(str(project_dir)) as project:
        assert len(project.candidates(status="pending")) == 20
        stored = next(c for c in project.candidates() if c.id == first.id)
        assert project.policy_json(stored.provenance["policy_sha256"]) is not None


def test_selected_items_only_and_class_balance(qtbot, make_window, image_folder: Path, tmp_path: Path, monkeypatch) -> None:
    project_dir = make_project(image_folder, tmp_path / "pets.genaug")
    window = make_window()
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    view = window.grid.view
    proxy = window.session.proxy
    for row in (0, 1, 2):
        view.selectionModel().select(proxy.index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    answer_dialog(monkeypatch, per_item=3, workers=1, selected=True)
    window.augmentation.controller.request()
    wait_augmented(qtbot, window)
    assert window.augmentation.controller.last_result.created == 9
    window.message_bar.history.clear()
    # cat has 6 items, dog 5: balancing to 6 makes one dog variant
    shown = answer_dialog(monkeypatch, balance=6, workers=1)
    window.augmentation.editor.augment_action.trigger()
    wait_augmented(qtbot, window)
    assert shown == [1]
    assert window.augmentation.controller.last_result.created == 1


def test_plain_dataset_offers_to_create_a_project_first(qtbot, make_window, image_folder: Path, tmp_path: Path,
                                                       monkeypatch) -> None:
    asked: list[str] = []
    where = tmp_path / "made.genaug"

    def choose(parent: Any, dataset: str) -> str:
        asked.append(dataset)
        return str(where)

    monkeypatch.setattr(AugmentController, "ask_create_project", staticmethod(choose))
    answer_dialog(monkeypatch, per_item=1, workers=1)
    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    # What the status bar shows while the augmentation runs (it starts as the new project opens).
    shown: list[tuple[bool, bool, bool]] = []
    window.augmentation.controller.progress_changed.connect(lambda p: shown.append(
        (p.message.startswith("Augmented"), window.progress_bar.isVisible(), window.cancel_button.isVisible())))
    window.augmentation.controller.request()
    wait_augmented(qtbot, window)
    augmenting = [(bar, cancel) for is_job, bar, cancel in shown if is_job]
    assert augmenting and all(bar and cancel for bar, cancel in augmenting), shown
    assert asked == [str(image_folder)]
    assert (where / "project.sqlite").is_file()
    assert window.session.project is not None and window.session.state.kind == "project"
    assert window.augmentation.controller.last_result.created == GOOD_IMAGES
    assert any("Created the project made.genaug" in m for _l, m in window.message_bar.history)
    # Opened like any project: listed first under Recent, so the welcome page offers it next time.
    assert window.settings.recent_paths()[0] == str(where)


def test_project_inside_the_dataset_is_refused_with_a_message(qtbot, make_window, image_folder: Path,
                                                               monkeypatch) -> None:
    monkeypatch.setattr(AugmentController, "ask_create_project",
                        staticmethod(lambda parent, dataset: str(image_folder / "inside.genaug")))
    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    window.augmentation.controller.request()
    qtbot.waitUntil(lambda: window.message_bar.level == "error" and not window.augmentation.controller.is_busy,
                    timeout=20000)
    assert "inside the dataset folder" in window.message_bar.message
    assert not (image_folder / "inside.genaug" / "project.sqlite").exists()


def test_cancel_keeps_a_consistent_project(qtbot, make_window, image_folder: Path, tmp_path: Path, monkeypatch) -> None:
    project_dir = make_project(image_folder, tmp_path / "pets.genaug")
    answer_dialog(monkeypatch, per_item=400, workers=1)
    window = make_window()
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    aug = window.augmentation
    made: list[int] = []

    def first_batch(ids: list[int]) -> None:
        if not made:
            window.cancel_button.click()  # the status bar's Cancel stops the augmentation
        made.extend(ids)

    aug.controller.candidates_added.connect(first_batch)
    aug.controller.request()
    assert window.cancel_button.isVisible()
    wait_augmented(qtbot, window)
    level, text = window.message_bar.history[-1]
    assert level == "info" and "cancelled" in text
    with Project.open(str(project_dir)) as project:
        stored = [c.id for c in project.candidates()]
    assert stored and len(stored) < 400 * 11
    assert set(made) <= set(stored)


def test_invalid_policy_or_no_dataset_is_a_message(qtbot, make_window, image_folder: Path) -> None:
    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    editor = window.augmentation.editor
    doc = dict(editor.document)
    doc["steps"] = [{"op": "rotate", "p": 2.0}]
    editor._apply(doc, [])
    assert "$.steps[0].p" in editor.status_label.toolTip()
    window.augmentation.controller.request()
    assert window.message_bar.level == "error" and "$.steps[0].p" in window.message_bar.message


def test_unsaved_policy_survives_closing_the_window(qtbot, make_window, image_folder: Path) -> None:
    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    editor = window.augmentation.editor
    editor.add_op("invert")
    edited = editor.document
    window.close()  # no question blocks the closing window: the draft goes to the settings
    again = make_window()
    again.open_path(str(image_folder))
    wait_loaded(qtbot, again)
    restored = again.augmentation.editor
    assert restored.document == edited and restored.is_dirty
    assert "Restored the unsaved policy" in again.message_bar.message
    restored.undo_action.trigger()
    assert not restored.is_dirty and restored.document["name"] == "Images: light"


def test_dialog_estimates_and_options(qtbot) -> None:
    items = [Item(f"cat/{i}.png", f"cat/{i}.png", "image", "cat", "", 0) for i in range(3)]
    items.append(Item("dog/0.png", "dog/0.png", "image", "dog", "", 0))
    dialog = AugmentDialog("Images: light", "image", items, [], seed=42)
    qtbot.addWidget(dialog)
    assert dialog.estimate() == 16  # 4 per item by default
    assert not dialog.selected_radio.isEnabled()
    assert dialog.balance_spin.value() == 3
    dialog.balance_radio.setChecked(True)
    assert dialog.estimate() == 2 and "2 new candidates" in dialog.estimate_label.text()
    dialog.balance_spin.setValue(5)
    assert dialog.estimate() == 2 + 4
    options = dialog.options()
    assert options == AugmentOptions(per_item=4, balance_target=5, selected_only=False, seed=42,
                                     workers=dialog.workers_spin.value())
    unlabelled = AugmentDialog("x", "text", [Item("a:1", "a", "text", None, "", 0, text="hi")], [])
    qtbot.addWidget(unlabelled)
    assert not unlabelled.balance_radio.isEnabled()


def test_a_project_is_suggested_beside_the_dataset_unless_that_is_the_apps_own_folder(tmp_path: Path, monkeypatch) -> None:
    from genaug_desktop.gui.augment_dialog import suggested_project_path
    from genaug_desktop.gui.resources import sample_images_dir, sample_texts_file

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    dataset = tmp_path / "data" / "pets"
    dataset.mkdir(parents=True)
    assert suggested_project_path(str(dataset) + "/") == str(tmp_path / "data" / "pets.genaug")
    assert suggested_project_path(str(tmp_path / "data" / "reviews.csv")) == str(tmp_path / "data" / "reviews.genaug")
    # The bundled samples are inside the installed app (read-only in a bundle, gone on upgrade).
    assert suggested_project_path(str(sample_images_dir())) == str(home / "images.genaug")
    assert suggested_project_path(str(sample_texts_file())) == str(home / "reviews.genaug")
    locked = tmp_path / "locked"
    (locked / "set").mkdir(parents=True)
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # (root can write anywhere)
            assert suggested_project_path(str(locked / "set")) == str(home / "set.genaug")
    finally:
        locked.chmod(0o700)


# ---- a project whose source files moved (user trial) --------------------------------------------------------
def _items(n: int) -> list[Item]:
    return [Item(f"cat/{i}.png", f"cat/{i}.png", "image", "cat", "", 0) for i in range(n)]


def test_dialog_warns_with_the_count_of_missing_sources_and_leaves_them_out(qtbot) -> None:
    items = _items(5)
    dialog = AugmentDialog("Images: light", "image", items, items[:2], 0, missing=frozenset({"cat/0.png", "cat/3.png"}))
    qtbot.addWidget(dialog)
    dialog.per_item_spin.setValue(2)
    assert not dialog.missing_label.isHidden()
    text = dialog.missing_label.text()
    assert text.startswith("2 of the 5 items have a missing source file") and "cat/0.png" in text
    assert "left out" in text
    assert dialog.estimate() == 2 * 3 and [i.key for i in dialog.scope()] == ["cat/1.png", "cat/2.png", "cat/4.png"]
    dialog.selected_radio.setChecked(True)  # cat/0 and cat/1: one gone
    assert dialog.missing_label.text().startswith("1 of the 2 items") and dialog.estimate() == 2
    everything = AugmentDialog("p", "image", items[:2], [], 0, missing=frozenset({"cat/0.png", "cat/1.png"}))
    qtbot.addWidget(everything)
    ok = everything.buttons.button(everything.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "nothing to augment" in ok.toolTip()
    assert everything.missing_label.text().startswith("The source files of all 2 items are missing")
    fine = AugmentDialog("p", "image", items, [], 0)
    qtbot.addWidget(fine)
    assert fine.missing_label.isHidden() and fine.buttons.button(fine.buttons.StandardButton.Ok).isEnabled()


def test_augment_with_moved_sources_warns_first_and_augments_the_rest(qtbot, make_window, image_folder: Path,
                                                                      tmp_path: Path, monkeypatch) -> None:
    project_dir = make_project(image_folder, tmp_path / "pets.genaug")
    for name in ("cat/cat_01.png", "cat/cat_02.png", "dog/dog_00.png"):
        (image_folder / name).unlink()
    warnings: list[str] = []

    def accept(dialog: AugmentDialog) -> bool:
        dialog.per_item_spin.setValue(1)
        dialog.workers_spin.setValue(1)
        warnings.append(dialog.missing_label.text() if not dialog.missing_label.isHidden() else "")
        return True

    monkeypatch.setattr(AugmentController, "ask_options", staticmethod(accept))
    window = make_window()
    window.open_path(str(project_dir))
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.session.source_check is not None, timeout=10_000)
    window.augmentation.editor.augment_button.click()
    wait_augmented(qtbot, window)
    assert warnings and warnings[0].startswith("3 of the 11 items have a missing source file")
    result = window.augmentation.controller.last_result
    # 8 items left: 7 good ones make a variant each; only the undecodable one fails (not the 3 missing ones)
    assert result.created == GOOD_IMAGES - 3 and len(result.failures) == 1
