"""The policy editor: palette, step tree edits, generated forms, undo/redo, JSON files, presets and
the live preview (newest request wins, text items, errors on tiles); plus the Qt-free document
edits and preview renderer it is built on."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt

from genaug_desktop.core.datasets.model import Item
from genaug_desktop.core.jobs import Progress
from genaug_desktop.core.ops.base import registry
from genaug_desktop.core.policy import Policy, derive_seed
from genaug_desktop.gui import policy_document as pd
from genaug_desktop.gui import policy_preview
from genaug_desktop.gui.policy_editor import PolicyEditor, list_presets
from genaug_desktop.gui.policy_steps import OpNameRole, PolicyStepModel
from genaug_desktop.gui.preview_render import (
    PreviewRequest,
    PreviewSource,
    changed_spans,
    clear_caches,
    describe_chain,
    run_preview,
)
from gui_helpers import write_png


# ---- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture
def editor(qtbot) -> PolicyEditor:
    ed = PolicyEditor("image")
    qtbot.addWidget(ed)
    ed.resize(1280, 420)
    ed.show()
    ed.new_policy()
    return ed


@pytest.fixture
def text_editor(qtbot) -> PolicyEditor:
    ed = PolicyEditor("text")
    qtbot.addWidget(ed)
    ed.show()
    ed.new_policy()
    return ed


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    return write_png(tmp_path / "pic.png", (40, 120, 200), size=(96, 80))


def image_item(path: Path) -> Item:
    return Item(path.name, path.name, "image", "cat", "f" * 64, path.stat().st_size, 96, 80)


def wait_preview(qtbot, ed: PolicyEditor, timeout: int = 15000) -> None:
    qtbot.waitUntil(lambda: ed.preview.last_result is not None and ed.is_settled(), timeout=timeout)


def op_step(name: str, p: float = 1.0, **params: Any) -> dict[str, Any]:
    return {"op": name, "p": p, "params": registry()[name](params).values}


# ---- the document (no Qt) -----------------------------------------------------------------------------
def sample_document() -> pd.Document:
    doc = pd.empty_document("image", "test")
    doc["steps"] = [op_step("hflip", 0.5), op_step("rotate"), {"one_of": [op_step("invert"), op_step("greyscale")], "p": 0.7},
                    op_step("gaussian_blur")]
    doc["preprocess"] = [{"op": "convert_mode", "params": {"mode": "RGB"}}]
    return pd.canonical(doc)


def test_document_edits_are_pure_and_valid() -> None:
    doc = sample_document()
    frozen = json.dumps(doc, sort_keys=True)
    new, made = pd.insert(doc, ("steps", 2), 1, [op_step("vflip")])
    assert made == [("steps", 2, 1)] and pd.node_at(new, made[0])["op"] == "vflip"
    new, moved = pd.move(new, [("steps", 0)], ("steps", 2), 0)  # hflip into the group (which shifts up)
    assert moved == [("steps", 1, 0)] and pd.node_at(new, moved[0])["op"] == "hflip"
    new, group_path = pd.group(new, [("steps", 0), ("steps", 2)], "some_of", [1, 2])
    assert pd.node_at(new, group_path)["n"] == [1, 2] and len(pd.children(pd.node_at(new, group_path))) == 2
    new, copies = pd.duplicate(new, [group_path])
    assert pd.node_at(new, copies[0]) == pd.node_at(new, group_path)
    new, members = pd.ungroup(new, copies[0])
    assert len(members) == 2
    new = pd.remove(new, [("steps", 1, 0), ("steps", 1, 1), ("steps", 1, 2)])  # empties the one_of: it goes
    pd.canonical(new)  # still a valid policy
    assert json.dumps(doc, sort_keys=True) == frozen  # the input never changed


def test_document_refuses_impossible_edits() -> None:
    doc = sample_document()
    with pytest.raises(pd.DocumentError):
        pd.group(doc, [("steps", 0), ("steps", 2, 0)], "one_of")  # different lists
    with pytest.raises(pd.DocumentError):
        pd.group(doc, [("preprocess", 0)], "one_of")
    with pytest.raises(pd.DocumentError):
        pd.move(doc, [("steps", 2)], ("steps", 2), 0)  # a group into itself
    with pytest.raises(pd.DocumentError):
        pd.move(doc, [("preprocess", 0)], ("steps",), 0)


def test_json_paths_of_steps() -> None:
    doc = sample_document()
    assert pd.json_path_in(doc, ("steps", 2, 1)) == "$.steps[2].one_of[1]"
    assert pd.path_of_json_path(doc, "$.steps[2].one_of[1].params.x") == ("steps", 2, 1)
    assert pd.path_of_json_path(doc, "$.preprocess[0].op") == ("preprocess", 0)
    assert pd.path_of_json_path(doc, "$.name") is None


# ---- the renderer (no Qt) ---------------------------------------------------------------------------
def medium_policy() -> dict[str, Any]:
    return Policy.load(str(Path(__file__).resolve().parents[2] / "resources/presets/image_medium.json")).to_json()


@pytest.mark.parametrize("focus", [None, 0, 1, 2, 3, 4])
def test_cached_prefix_gives_exactly_what_policy_apply_gives(picture: Path, focus: int | None) -> None:
    clear_caches()
    policy_json = medium_policy()
    source = PreviewSource("pic.png", "image", path=str(picture), sha256="ab" * 32)
    request = PreviewRequest(source, policy_json, seed=7, count=6, tile_side=4096, focus=focus)
    first = run_preview(request)
    again = run_preview(request)  # second run: prefixes come from the cache
    if focus:
        assert again.prefix_hits == 6
    policy = Policy.from_json(policy_json)
    from genaug_desktop.core.policy import load_image_array

    x = policy.run_preprocess(load_image_array(str(picture)))
    for result in (first, again):
        for tile in result.variants:
            assert tile.seed == derive_seed(7, source.seed_key, tile.index)  # the batch job's seeds
            out, chain = policy.apply(x, tile.seed, preprocessed=True)
            assert tile.chain == chain
            assert tile.image is not None
            got = np.frombuffer(tile.image.data, np.uint8).reshape(tile.image.height, tile.image.width, 3)
            assert np.array_equal(got, out if out.ndim == 3 else np.stack([out] * 3, axis=-1))


def test_render_fits_tiles_and_reports_bad_sources(picture: Path, tmp_path: Path) -> None:
    source = PreviewSource("pic.png", "image", path=str(picture))
    result = run_preview(PreviewRequest(source, medium_policy(), count=3, tile_side=40))
    assert result.error is None and len(result.variants) == 3
    assert max(result.source.image.width, result.source.image.height) <= 40  # type: ignore[union-attr]
    assert (result.source.image.full_width, result.source.image.full_height) == (96, 80)  # type: ignore[union-attr]
    missing = run_preview(PreviewRequest(PreviewSource("x", "image", path=str(tmp_path / "gone.png")), medium_policy()))
    assert missing.error and not missing.variants
    bad = run_preview(PreviewRequest(source, {"schema_version": 1, "modality": "image", "steps": [{"op": "nope"}]}))
    assert bad.error and "$.steps[0].op" in bad.error


def test_changed_words_and_chain_text() -> None:
    before = "the quick brown fox"
    after = "the quikc brown fox jumps"
    spans = changed_spans(before, after)
    assert [after[s:s + n] for s, n in spans] == ["quikc", "jumps"]
    assert describe_chain([]).startswith("No op fired")
    assert describe_chain([{"op": "rotate", "params": {"angle": -7.3125}}]) == "rotate(angle=-7.31)"


# ---- the palette ---------------------------------------------------------------------------------------
def palette_names(ed: PolicyEditor) -> dict[str, QModelIndex]:
    found = {}
    model = ed.palette_filter
    for row in range(model.rowCount()):
        head = model.index(row, 0)
        for child in range(model.rowCount(head)):
            index = model.index(child, 0, head)
            found[index.data(OpNameRole)] = index
    return found


def test_palette_lists_the_modality_by_category_with_search(editor: PolicyEditor) -> None:
    names = palette_names(editor)
    image_ops = {n for n, c in registry().items() if c.modality == "image"}
    assert set(names) == image_ops
    heads = [editor.palette_filter.index(r, 0).data() for r in range(editor.palette_filter.rowCount())]
    assert heads[-1] == "Pre-processing" and "Geometry" in heads
    editor.search_edit.setText("blur")  # names, titles, help and category all count
    assert {"gaussian_blur", "motion_blur", "median_blur"} <= set(palette_names(editor)) < set(names)
    editor.search_edit.setText("MEDIAN")
    assert set(palette_names(editor)) == {"median_blur"}
    editor.search_edit.setText("colour")  # a category name lists its ops
    assert "brightness" in palette_names(editor)
    editor.search_edit.clear()
    editor.set_modality("text", locked=False)
    assert {n for n in palette_names(editor)} == {n for n, c in registry().items() if c.modality == "text"}


def test_unavailable_op_is_greyed_with_the_reason(qtbot, monkeypatch) -> None:
    from genaug_desktop.core.ops import text as text_ops

    monkeypatch.setattr(text_ops.Synonym, "availability", classmethod(lambda cls: (False, "needs WordNet: see docs")))
    ed = PolicyEditor("text")
    qtbot.addWidget(ed)
    index = palette_names(ed)["synonym"]
    assert not index.flags() & Qt.ItemFlag.ItemIsEnabled
    assert "needs WordNet" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert ed.add_op("synonym") is None  # refused, with a message instead of a crash


def test_double_click_in_palette_adds_with_defaults_after_the_selection(editor: PolicyEditor, qtbot) -> None:
    index = palette_names(editor)["rotate"]
    editor.palette_view.doubleClicked.emit(index)
    assert editor.document["steps"] == [op_step("rotate")]
    assert editor.selected_paths() == [("steps", 0)]
    editor.palette_view.setCurrentIndex(palette_names(editor)["brightness"])
    editor.add_action.trigger()
    assert [s["op"] for s in editor.document["steps"]] == ["rotate", "brightness"]
    editor.add_op("resize_to")  # a pre-processing op goes to its own section
    assert editor.document["preprocess"][0]["op"] == "resize_to" and "p" not in editor.document["preprocess"][0]


# ---- step edits, forms, undo ----------------------------------------------------------------------------
def test_forms_edit_the_selected_step_and_undo_redo_every_edit(editor: PolicyEditor, qtbot) -> None:
    editor.add_op("rotate")
    editor.add_op("gaussian_blur")
    editor.select_path(("steps", 0))
    form = editor.param_form
    assert form is not None and set(form.fields) == set(registry()["rotate"].params.names())
    angle = form.field("angle")
    angle.high_spin.setValue(40)
    angle.low_spin.setValue(-40)  # merges with the previous angle edit: one undo step
    editor.step_form.field("p").spin.setValue(0.25)  # type: ignore[union-attr]
    form.field("border").combo.setCurrentText("constant")
    step = editor.document["steps"][0]
    assert step["params"]["angle"] == [-40.0, 40.0] and step["p"] == 0.25 and step["params"]["border"] == "constant"
    stack = editor.undo_stack
    assert stack.count() == 5  # add, add, angle (merged), p, border
    assert editor.is_dirty
    editor.undo_action.trigger()
    assert editor.document["steps"][0]["params"]["border"] == "reflect"
    assert editor.param_form.field("border").value() == "reflect"  # the form follows the model
    editor.undo_action.trigger()
    editor.undo_action.trigger()
    assert editor.document["steps"][0] == op_step("rotate")
    editor.redo_action.trigger()
    assert editor.document["steps"][0]["params"]["angle"] == [-40.0, 40.0]
    while stack.canUndo():
        stack.undo()
    assert editor.document["steps"] == [] and not editor.is_dirty


def test_shortcuts_undo_and_redo(editor: PolicyEditor, qtbot) -> None:
    editor.add_op("hflip")
    editor.steps_view.setFocus()
    qtbot.keyClick(editor.steps_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.document["steps"] == []
    qtbot.keyClick(editor.steps_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [s["op"] for s in editor.document["steps"]] == ["hflip"]


def test_step_tree_edits_group_duplicate_delete_enable(editor: PolicyEditor) -> None:
    for name in ("hflip", "rotate", "invert", "greyscale"):
        editor.add_op(name)
    editor.select_paths([("steps", 2), ("steps", 3)])
    editor.group_one_of_action.trigger()
    assert list(editor.document["steps"][2]) == ["one_of", "p"]
    assert editor.step_model.index_of(("steps", 2, 1)).data() == "Greyscale"
    assert editor.step_model.index_of(("steps", 2)).data() == "One of (2)"
    editor.select_paths([("steps", 0), ("steps", 1)])
    editor.group_some_of_action.trigger()
    group = editor.document["steps"][0]
    assert [c["op"] for c in group["some_of"]] == ["hflip", "rotate"] and group["n"] == [1, 1]
    editor.select_path(("steps", 0))
    n_field = editor.step_form.field("n")  # type: ignore[union-attr]
    n_field.high_spin.setValue(2)
    assert editor.document["steps"][0]["n"] == [1, 2]
    editor.set_enabled(("steps", 1), False)
    assert editor.document["steps"][1]["enabled"] is False
    assert editor.step_model.index_of(("steps", 1)).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    editor.select_path(("steps", 1, 0))
    editor.duplicate_action.trigger()
    assert [c["op"] for c in editor.document["steps"][1]["one_of"]] == ["invert", "invert", "greyscale"]
    editor.delete_action.trigger()
    assert [c["op"] for c in editor.document["steps"][1]["one_of"]] == ["invert", "greyscale"]
    editor.select_path(("steps", 0))
    editor.ungroup_action.trigger()
    assert [s.get("op") for s in editor.document["steps"]][:2] == ["hflip", "rotate"]
    editor.select_path(("steps", 1))
    editor.move_up_action.trigger()
    assert [s.get("op") for s in editor.document["steps"]][:2] == ["rotate", "hflip"]
    pd.canonical(editor.document)  # every state along the way is a valid policy


def test_probability_column_edits_and_check_boxes(editor: PolicyEditor) -> None:
    editor.add_op("invert")
    index = editor.step_model.index_of(("steps", 0), 1)
    assert index.flags() & Qt.ItemFlag.ItemIsEditable
    assert editor.step_model.setData(index, 0.3)
    assert editor.document["steps"][0]["p"] == 0.3 and index.data() == "0.3"
    assert editor.step_form.values()["p"] == 0.3  # type: ignore[union-attr]
    check = editor.step_model.index_of(("steps", 0), 0)
    editor.step_model.setData(check, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert editor.document["steps"][0]["enabled"] is False
    editor.undo_action.trigger()
    assert "enabled" not in editor.document["steps"][0]


def test_drag_and_drop_moves_steps_into_a_group_and_undoes(editor: PolicyEditor) -> None:
    for name in ("hflip", "rotate", "invert"):
        editor.add_op(name)
    editor.select_paths([("steps", 1), ("steps", 2)])
    editor.group_sequence_action.trigger()  # steps: hflip, sequence(rotate, invert)
    model: PolicyStepModel = editor.step_model
    mime = model.mimeData([model.index_of(("steps", 0))])
    target = model.index_of(("steps", 1))
    assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, 1, 0, target)
    assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 1, 0, target)
    steps = editor.document["steps"]
    assert len(steps) == 1 and [c["op"] for c in steps[0]["sequence"]] == ["rotate", "hflip", "invert"]
    assert editor.selected_paths() == [("steps", 0, 1)]
    # a group into itself, and a random step into pre-processing, are refused
    own = model.mimeData([model.index_of(("steps", 0))])
    assert not model.canDropMimeData(own, Qt.DropAction.MoveAction, 0, 0, model.index_of(("steps", 0)))
    assert not model.canDropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, model.index_of(("preprocess",)))
    editor.undo_action.trigger()
    assert [s.get("op") for s in editor.document["steps"]] == ["hflip", None]


# ---- files -----------------------------------------------------------------------------------------------
def test_policy_edited_in_the_editor_round_trips_through_json(editor: PolicyEditor, tmp_path: Path, qtbot) -> None:
    editor.add_op("convert_mode")
    editor.add_op("affine")
    editor.add_op("color_jitter")
    editor.add_op("gaussian_noise")
    editor.select_paths([("steps", 1), ("steps", 2)])
    editor.group_some_of_action.trigger()
    editor.select_path(("steps", 0))
    editor.param_form.field("shear").low_spin.setValue(-20)  # type: ignore[union-attr]
    editor.param_form.field("fill").set_value([1, 2, 3])  # type: ignore[union-attr]
    editor.param_form.field("fill").edited.emit()  # type: ignore[union-attr]
    editor.name_edit.setText("My policy")
    editor.name_edit.editingFinished.emit()
    path = tmp_path / "mine.json"
    with qtbot.waitSignal(editor.message) as saved:
        assert editor.save_to(str(path))
    assert saved.args[0] == "info" and not editor.is_dirty
    loaded = Policy.load(str(path))
    assert loaded.to_json() == pd.canonical(editor.document)
    assert loaded.name == "My policy" and loaded.steps[0].op.values["fill"] == [1, 2, 3]
    editor.new_policy()
    assert editor.document["steps"] == []
    assert editor.open_file(str(path))
    assert editor.document == loaded.to_json() and editor.file_path == str(path)
    assert path.read_text(encoding="utf-8") == pd.dumps(loaded.to_json())


def test_open_errors_name_the_json_path(editor: PolicyEditor, tmp_path: Path, qtbot) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1, "modality": "image", "steps": [{"op": "rotate", "p": 3}]}))
    before = editor.document
    with qtbot.waitSignal(editor.message) as blocker:
        assert not editor.open_file(str(bad))
    level, text = blocker.args
    assert level == "error" and "$.steps[0].p" in text and "bad.json" in text
    assert editor.document == before
    editor.modality_locked = True
    text_policy = tmp_path / "text.json"
    text_policy.write_text(json.dumps({"schema_version": 1, "modality": "text", "steps": []}))
    with qtbot.waitSignal(editor.message) as blocker:
        assert not editor.open_file(str(text_policy))
    assert "text policy" in blocker.args[1]


def test_unsaved_changes_prompt(editor: PolicyEditor, monkeypatch, tmp_path: Path) -> None:
    editor.add_op("hflip")
    answers: list[str] = []
    monkeypatch.setattr(PolicyEditor, "ask_unsaved", staticmethod(lambda parent, name: answers.pop(0)))
    answers.append("cancel")
    editor.new_policy()
    assert editor.document["steps"]  # kept
    answers.append("discard")
    editor.new_policy()
    assert editor.document["steps"] == [] and not editor.is_dirty
    editor.add_op("vflip")
    editor.file_path = str(tmp_path / "kept.json")
    answers.append("save")
    assert editor.load_preset(list_presets("image")[0].path)
    assert json.loads((tmp_path / "kept.json").read_text())["steps"][0]["op"] == "vflip"


def test_presets_load_for_the_modality(editor: PolicyEditor) -> None:
    names = {p.name for p in list_presets("image")}
    assert {"Images: light", "Images: medium", "Images: heavy"} <= names
    medium = next(p for p in list_presets("image") if p.name == "Images: medium")
    assert editor.load_preset(medium.path)
    assert editor.document["name"] == "Images: medium" and not editor.is_dirty and editor.file_path is None
    editor._fill_presets_menu()
    assert {a.text() for a in editor.presets_menu.actions()} == names


def test_each_modality_keeps_its_own_document_and_history(editor: PolicyEditor) -> None:
    editor.add_op("invert")
    image_doc = editor.document
    editor.set_modality("text")
    assert editor.document["modality"] == "text" and not editor.undo_stack.canUndo()
    editor.set_modality("image")
    assert editor.document == image_doc and editor.undo_stack.canUndo()


# ---- the preview --------------------------------------------------------------------------------------------
def test_preview_shows_the_item_beside_n_variants(editor: PolicyEditor, picture: Path, qtbot) -> None:
    editor.add_op("rotate")
    editor.set_item(image_item(picture), str(picture))
    wait_preview(qtbot, editor)
    tiles = editor.preview.view.tile_model.tiles
    assert len(tiles) == 9 and tiles[0].caption == "Original" and tiles[0].image is not None
    assert all(t.image is not None and t.error is None for t in tiles[1:])
    assert "rotate(angle=" in tiles[1].tooltip and "seed" in tiles[1].tooltip
    editor.preview.set_count(3)
    qtbot.waitUntil(lambda: len(editor.preview.view.tile_model.tiles) == 4 and editor.is_settled())
    seed = editor.preview.seed
    editor.preview.reshuffle_button.click()
    assert editor.preview.seed != seed
    qtbot.waitUntil(lambda: editor.preview.last_result.request.seed == editor.preview.seed and editor.is_settled())
    assert editor.preview.last_result.variants[0].seed == derive_seed(editor.preview.seed, "f" * 64, 0)


def test_two_edits_in_a_row_show_only_the_newest_and_abort_the_older(editor: PolicyEditor, picture: Path, qtbot,
                                                                        monkeypatch) -> None:
    real = policy_preview.preview_job
    started = threading.Event()
    calls: list[PreviewRequest] = []

    def slow_first(request: PreviewRequest, cancel: Any) -> Any:
        calls.append(request)
        if len(calls) == 1:  # the older job: busy until it is aborted
            started.set()
            while True:
                time.sleep(0.005)
                yield Progress(0, 1, "slow")
        return (yield from real(request, cancel))

    monkeypatch.setattr(policy_preview, "preview_job", slow_first)
    editor.add_op("brightness")
    editor.select_path(("steps", 0))
    editor.set_item(image_item(picture), str(picture))
    qtbot.waitUntil(started.is_set)
    form = editor.param_form
    form.field("delta").high_spin.setValue(0.5)  # edit 1
    form.field("delta").low_spin.setValue(0.3)  # edit 2, right after
    wait_preview(qtbot, editor)
    # The slow first job was cancelled (its thread may report that after the newer one is shown).
    qtbot.waitUntil(lambda: editor.preview.aborted_count >= 1)
    shown = editor.preview.last_result
    assert shown.request.policy["steps"][0]["params"]["delta"] == [0.3, 0.5]  # only the newest result
    assert editor.preview.view.tile_model.generation == 1  # nothing older was ever shown
    assert len(calls) == 2  # the two quick edits were debounced into one render


def test_preview_of_a_text_item_highlights_changes(text_editor: PolicyEditor, qtbot) -> None:
    ed = text_editor
    ed.add_op("random_char_swap")
    ed.select_path(("steps", 0))
    ed.param_form.field("aug_word_p").spin.setValue(0.5)  # type: ignore[union-attr]
    text = "Soft fabric, true to size, and the colour stayed bright after many washes."
    ed.set_item(Item("reviews.csv:5", "reviews.csv", "text", "positive", "c" * 64, len(text), line=5, text=text))
    wait_preview(qtbot, ed, timeout=60000)
    tiles = ed.preview.view.tile_model.tiles
    assert ed.preview.view.tile_model.modality == "text"
    assert tiles[0].text == text and len(tiles) == 9
    changed = [t for t in tiles[1:] if t.text != text]
    assert changed and all(t.spans for t in changed)
    assert "random_char_swap" in changed[0].tooltip


def test_a_failing_variant_shows_its_message_on_its_tile(editor: PolicyEditor, picture: Path, qtbot, monkeypatch) -> None:
    from genaug_desktop.core.ops import image as image_ops

    def broken(self: Any, x: Any, **_: Any) -> Any:
        raise ValueError("boom")

    monkeypatch.setattr(image_ops.Invert, "apply", broken)
    editor.add_op("invert")
    editor.select_path(("steps", 0))
    editor.step_form.field("p").spin.setValue(0.5)  # type: ignore[union-attr]
    editor.set_item(image_item(picture), str(picture))
    wait_preview(qtbot, editor)
    tiles = editor.preview.view.tile_model.tiles[1:]
    failed = [t for t in tiles if t.error]
    assert failed and all("boom" in t.error and "boom" in t.tooltip for t in failed)
    assert any(t.error is None for t in tiles)
    assert "failed" in editor.preview.status_label.text()


def test_unreadable_item_is_a_message_not_a_crash(editor: PolicyEditor, tmp_path: Path, qtbot) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png")
    editor.add_op("hflip")
    editor.set_item(image_item(junk), str(junk))
    wait_preview(qtbot, editor)
    error = editor.preview.last_result.error
    assert error
    # In full where the tiles go (the status line is too short for it), and in the status tooltip.
    assert editor.preview.view.placeholder == error and editor.preview.view.placeholder_is_error
    assert editor.preview.status_label.toolTip() == error


def test_step_shortcuts_work_in_the_step_tree_only(editor: PolicyEditor, qtbot) -> None:
    editor.add_op("hflip")
    editor.add_op("vflip")
    editor.select_path(("steps", 0))
    editor.palette_view.setFocus()
    qtbot.waitUntil(editor.palette_view.hasFocus)
    qtbot.keyClick(editor.palette_view, Qt.Key.Key_Delete)  # in the palette: not a step edit
    assert len(editor.document["steps"]) == 2
    editor.steps_view.setFocus()
    qtbot.waitUntil(editor.steps_view.hasFocus)
    qtbot.keyClick(editor.steps_view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert [s["op"] for s in editor.document["steps"]] == ["hflip", "hflip", "vflip"]
    qtbot.keyClick(editor.steps_view, Qt.Key.Key_Delete)
    assert [s["op"] for s in editor.document["steps"]] == ["hflip", "vflip"]


# ---- conditional steps ("when") -----------------------------------------------------------------------
def _conditions(editor: PolicyEditor):
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()  # a widget added to a shown layout is shown from the event loop
    form = editor.conditions_form
    assert form is not None and form.isVisible()
    return form


def test_conditions_added_in_the_editor_show_save_reload_and_undo(editor: PolicyEditor, tmp_path: Path, qtbot) -> None:
    from genaug_desktop.gui.policy_steps import ConditionRole

    editor.add_op("hflip")
    editor.add_op("rotate")
    editor.select_path(("steps", 0))
    form = _conditions(editor)
    assert form.summary_label.text() == "Runs for every item."
    form.mode_combo.setCurrentIndex(2)  # "All labels except"
    assert "when" not in editor.document["steps"][0]  # no labels yet: nothing to save
    form.labels_edit.setFocus()
    qtbot.keyClicks(form.labels_edit, "6, 9, 6")
    qtbot.keyClick(form.labels_edit, Qt.Key.Key_Return)
    assert editor.document["steps"][0]["when"] == {"label": {"not_in": ["6", "9"]}}
    assert form.summary_label.text() == "Runs only when label not in {6, 9}"
    low, high = form.bound_boxes["width"]
    low.setValue(16)
    assert editor.document["steps"][0]["when"] == {"label": {"not_in": ["6", "9"]}, "width": {"min": 16}}
    index = editor.step_model.index_of(("steps", 0))
    assert index.data(ConditionRole) == "label not in {6, 9} · width ≥ 16"
    assert "Runs only when label not in {6, 9}" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert editor.step_model.index_of(("steps", 1)).data(ConditionRole) is None
    # undo: both condition edits merged into one step (like a slider drag), then redo
    editor.undo_stack.undo()
    assert "when" not in editor.document["steps"][0] and form.labels_edit.text() == ""
    editor.undo_stack.redo()
    assert editor.document["steps"][0]["when"]["width"] == {"min": 16}
    # save, start over, open: the condition is back in the tree and in the form
    path = tmp_path / "conditional.json"
    assert editor.save_to(str(path))
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["schema_version"] == 2 and saved["steps"][0]["when"] == {"label": {"not_in": ["6", "9"]}, "width": {"min": 16}}
    editor.new_policy()
    assert editor.document["steps"] == []
    assert editor.open_file(str(path))
    assert editor.step_model.index_of(("steps", 0)).data(ConditionRole) == "label not in {6, 9} · width ≥ 16"
    editor.select_path(("steps", 0))
    form = _conditions(editor)
    assert form.mode_combo.currentIndex() == 2 and form.labels_edit.text() == "6, 9"
    assert form.bound_boxes["width"][0].value() == 16 and form.bound_boxes["width"][1].value() == -1
    # emptying the label set drops the label condition; removing every condition removes "when"
    form.labels_edit.clear()
    form.labels_edit.editingFinished.emit()
    assert editor.document["steps"][0]["when"] == {"width": {"min": 16}}
    assert form.summary_label.text() == "Type the labels (comma-separated)."
    form.mode_combo.setCurrentIndex(0)
    form.bound_boxes["width"][0].setValue(-1)
    assert "when" not in editor.document["steps"][0]
    assert editor.step_model.index_of(("steps", 0)).data(ConditionRole) is None


def test_label_set_is_picked_from_the_datasets_classes(editor: PolicyEditor) -> None:
    editor.set_classes(["cat", "dog", "bird"])
    editor.add_op("invert")
    form = _conditions(editor)
    form.classes_menu.aboutToShow.emit()
    actions = {a.text(): a for a in form.classes_menu.actions()}
    assert list(actions) == ["cat", "dog", "bird"]
    actions["dog"].trigger()
    assert editor.document["steps"][0]["when"] == {"label": {"in": ["dog"]}}
    assert form.mode_combo.currentText() == "Only these labels"
    form.classes_menu.aboutToShow.emit()
    {a.text(): a for a in form.classes_menu.actions()}["cat"].trigger()
    assert editor.document["steps"][0]["when"] == {"label": {"in": ["dog", "cat"]}}
    form.classes_menu.aboutToShow.emit()
    checked = [a.text() for a in form.classes_menu.actions() if a.isChecked()]
    assert checked == ["cat", "dog"]
    for name in ("dog", "cat"):
        form.classes_menu.aboutToShow.emit()
        {a.text(): a for a in form.classes_menu.actions()}[name].trigger()
    assert "when" not in editor.document["steps"][0] and form.mode_combo.currentIndex() == 0


def test_a_bad_bound_shows_the_reason_and_changes_nothing(editor: PolicyEditor) -> None:
    editor.add_op("hflip")
    form = _conditions(editor)
    low, high = form.bound_boxes["height"]
    high.setValue(10)
    before = json.dumps(editor.document)
    low.setValue(20)
    assert json.dumps(editor.document) == before
    assert "height.min" in form.summary_label.text() and "above max" in form.summary_label.text()
    high.setValue(30)
    assert editor.document["steps"][0]["when"] == {"height": {"min": 20, "max": 30}}


def test_text_policies_offer_length_conditions(text_editor: PolicyEditor) -> None:
    text_editor.add_op("random_word_swap")
    form = _conditions(text_editor)
    assert set(form.bound_boxes) == {"chars", "words"}
    form.bound_boxes["words"][0].setValue(5)
    assert text_editor.document["steps"][0]["when"] == {"words": {"min": 5}}


def test_groups_and_only_random_steps_have_conditions(editor: PolicyEditor) -> None:
    editor.add_op("convert_mode")
    editor.select_path(("preprocess", 0))
    assert editor.conditions_form is None
    editor.add_op("hflip")
    editor.add_op("vflip")
    editor.select_paths([("steps", 0), ("steps", 1)])
    editor.group_one_of_action.trigger()
    editor.select_path(("steps", 0))
    _conditions(editor).mode_combo.setCurrentIndex(1)
    _conditions(editor).labels_edit.setText("a")
    _conditions(editor).labels_edit.editingFinished.emit()
    assert editor.document["steps"][0]["when"] == {"label": {"in": ["a"]}} and "one_of" in editor.document["steps"][0]


def test_the_badge_is_painted_on_the_step_row(editor: PolicyEditor, qtbot) -> None:
    from genaug_desktop.gui.policy_editor import _StepDelegate

    editor.add_op("hflip")
    editor.add_op("vflip")
    editor.edit("cond", pd.set_when(editor.document, ("steps", 0), {"label": {"not_in": ["6", "9"]}}))
    editor.select_paths([])
    qtbot.wait(10)
    view = editor.steps_view
    image = view.viewport().grab().toImage()
    badge = _StepDelegate.BADGE_BG.rgb()

    def badge_pixels(path: pd.Path) -> int:
        rect = view.visualRect(editor.step_model.index_of(path))
        return sum(1 for x in range(rect.left(), rect.right()) if image.pixel(x, rect.center().y()) == badge)

    assert badge_pixels(("steps", 0)) > 10
    assert badge_pixels(("steps", 1)) == 0


def test_preview_uses_the_items_label_for_conditions(editor: PolicyEditor, picture: Path, qtbot) -> None:
    editor.add_op("invert")
    editor.edit("cond", pd.set_when(editor.document, ("steps", 0), {"label": {"in": ["dog"]}}))
    editor.set_item(image_item(picture), str(picture))  # a cat
    wait_preview(qtbot, editor)
    variants = editor.preview.last_result.variants
    assert variants and all(v.chain == [{"op": "invert", "skipped": "when: label 'cat' is not in {dog}"}] for v in variants)
    assert "invert skipped (when: label 'cat' is not in {dog})" in editor.preview.view.tile_model.tiles[1].tooltip
    assert editor.preview.status_label.text().endswith("skipped for this item: invert")
    assert "invert skipped (when: label 'cat' is not in {dog})" in editor.preview.status_label.toolTip()
    editor.edit("cond", pd.set_when(editor.document, ("steps", 0), {"label": {"in": ["dog", "cat"]}}))
    qtbot.waitUntil(lambda: editor.preview.last_result.request.policy["steps"][0]["when"]["label"]["in"] == ["dog", "cat"]
                    and editor.is_settled(), timeout=15000)
    assert all(v.chain[0]["op"] == "invert" and "skipped" not in v.chain[0] for v in editor.preview.last_result.variants)
    assert "skipped" not in editor.preview.status_label.text()


def test_cached_prefix_respects_the_label(picture: Path) -> None:
    """The image before the edited step depends on the label when an earlier step has a condition."""
    clear_caches()
    policy = pd.canonical({"schema_version": 2, "modality": "image", "steps": [
        {"op": "invert", "when": {"label": {"in": ["dog"]}}}, {"op": "rotate"}]})
    for label in ("dog", "cat", "dog"):
        source = PreviewSource("pic", "image", path=str(picture), sha256="f" * 64, label=label)
        result = run_preview(PreviewRequest(source, policy, seed=1, count=2, focus=1))
        expected = Policy.from_json(policy).apply(_decoded_picture(picture), result.variants[0].seed,
                                                  preprocessed=True, label=label)[1]
        assert result.variants[0].chain == expected


def _decoded_picture(picture: Path) -> np.ndarray:
    from genaug_desktop.core.policy import load_image_array

    return load_image_array(str(picture))


def test_describe_chain_lists_skipped_steps() -> None:
    assert describe_chain([{"op": "hflip", "skipped": "when: label '6' is in {6, 9}"}]) == (
        "No op fired for this seed: the variant equals the source.\nhflip skipped (when: label '6' is in {6, 9})")
    text = describe_chain([{"op": "one_of", "skipped": "when: width 8 < 16"}, {"op": "rotate", "params": {"angle": 3.0}}])
    assert text == "one_of skipped (when: width 8 < 16)\nrotate(angle=3)"


def test_new_documents_are_schema_2() -> None:
    assert pd.empty_document("image")["schema_version"] == 2


def test_the_window_gives_the_editor_the_datasets_classes(qtbot, make_window, image_folder: Path) -> None:
    from gui_helpers import wait_loaded

    window = make_window()
    window.open_path(str(image_folder))
    wait_loaded(qtbot, window)
    editor = window.augmentation.editor
    assert editor.classes == ["cat", "dog"]
    editor.add_op("hflip")
    form = _conditions(editor)
    form.classes_menu.aboutToShow.emit()
    assert [a.text() for a in form.classes_menu.actions()] == ["cat", "dog"]


# ---- what the editor says when it cannot preview or run (user trial) ------------------------------------
def text_item(text: str = "excellent value for money") -> Item:
    return Item("reviews.csv:2", "reviews.csv", "text", "pos", "a" * 64, len(text), line=2, text=text)


NO_WORDNET = "needs the WordNet data, which is not in any NLTK data folder. To enable it offline: see docs/wordnet.md"


@pytest.fixture
def no_wordnet(monkeypatch: pytest.MonkeyPatch) -> None:
    """The synonym op as on a machine without the WordNet data (CI may have it)."""
    from genaug_desktop.core.ops import text

    monkeypatch.setattr(text, "wordnet_status", lambda: (False, NO_WORDNET))
    assert not registry()["synonym"].availability()[0]


def test_an_unavailable_op_is_one_message_without_exception_names(no_wordnet: None) -> None:
    doc = pd.empty_document("text", "syn")
    doc["steps"] = [op_step("keyboard_typo"), op_step("synonym")]
    result = run_preview(PreviewRequest(PreviewSource("k", "text", text="good value"), doc, 0, 8))
    assert result.variants == [] and result.error is not None
    assert result.error.startswith("Synonym replacement is unavailable: ")
    assert "Error" not in result.error and "Traceback" not in result.error
    assert result.error == f"Synonym replacement is unavailable: {NO_WORDNET}"  # the reason, with how to enable it
    doc["steps"][1]["enabled"] = False  # a switched-off step does not run: nothing to say
    assert run_preview(PreviewRequest(PreviewSource("k", "text", text="good value"), doc, 0, 2)).error is None


def test_unavailable_preset_shows_one_message_and_disables_augment(text_editor: PolicyEditor, qtbot,
                                                                  no_wordnet: None) -> None:
    ed = text_editor
    ed.set_item(text_item())
    synonyms = next(p for p in list_presets("text") if "synonym" in p.path)
    ed.load_preset(synonyms.path)
    wait_preview(qtbot, ed)
    preview = ed.preview
    assert preview.view.tile_model.rowCount() == 0  # not 8 red boxes
    assert preview.view.placeholder.startswith("Synonym replacement is unavailable: ")
    assert preview.view.placeholder_is_error and preview.status_label.text() == "No preview"
    assert not ed.augment_button.isEnabled() and not ed.augment_action.isEnabled()
    assert ed.augment_button.toolTip() == preview.view.placeholder == ed.augment_action.toolTip()
    # Switch the synonym step off: Augment… is back, with its own tooltip, and the variants show.
    ed.new_policy()
    ed.add_op("keyboard_typo")
    wait_preview(qtbot, ed)
    qtbot.waitUntil(lambda: ed.preview.view.tile_model.rowCount() == 9, timeout=30_000)
    assert ed.augment_button.isEnabled() and ed.augment_action.isEnabled()
    assert ed.augment_button.toolTip().startswith("Run this policy over the dataset")


def test_first_text_preview_says_the_augmenters_are_loading(monkeypatch) -> None:
    import sys

    from genaug_desktop.gui.preview_render import LOADING_TEXT_OPS, preview_job

    doc = pd.empty_document("text", "typos")
    doc["steps"] = [op_step("keyboard_typo")]
    request = PreviewRequest(PreviewSource("k", "text", text="good value"), doc, 0, 2)
    monkeypatch.delitem(sys.modules, "nlpaug", raising=False)  # as in a process that never loaded it
    messages = [p.message for p in preview_job(request)]
    assert messages[0] == LOADING_TEXT_OPS
    monkeypatch.undo()
    import nlpaug  # noqa: F401  (loaded now)

    assert LOADING_TEXT_OPS not in [p.message for p in preview_job(request)]


def test_the_loading_message_shows_in_the_preview_off_the_gui_thread(text_editor: PolicyEditor, qtbot,
                                                                    monkeypatch) -> None:
    import sys

    from genaug_desktop.gui import preview_render

    threads: list[bool] = []
    shown: list[str] = []
    original_job = preview_render.preview_job

    def recording_job(request: Any, cancel: Any = None) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return (yield from original_job(request, cancel))

    monkeypatch.setattr(policy_preview, "preview_job", recording_job)
    monkeypatch.delitem(sys.modules, "nlpaug", raising=False)
    ed = text_editor
    original_show = ed.preview.show_placeholder
    monkeypatch.setattr(ed.preview, "show_placeholder", lambda text, error=False: (shown.append(text),
                                                                                  original_show(text, error)))
    ed.add_op("keyboard_typo")
    ed.set_item(text_item())
    wait_preview(qtbot, ed)
    assert preview_render.LOADING_TEXT_OPS in shown
    assert threads and not any(threads)  # rendered in a job thread: the window stays responsive
    assert ed.preview.view.tile_model.rowCount() == 9


def test_a_missing_source_file_is_said_in_full_in_the_preview(editor: PolicyEditor, picture: Path, qtbot) -> None:
    item = image_item(picture)
    picture.unlink()  # moved since the dataset was opened
    editor.add_op("hflip")
    editor.set_item(item, str(picture))
    wait_preview(qtbot, editor)
    preview = editor.preview
    message = preview.view.placeholder
    assert message.startswith("The source file of this item is missing: ") and str(picture) in message
    assert "Select an item" not in message and preview.view.placeholder_is_error
    assert preview.status_label.text() == "No preview" and preview.status_label.toolTip() == message
    image = preview.view.grab().toImage()  # the message is painted, wrapped in the tile area
    from genaug_desktop.gui.colors import BROKEN_TEXT

    inked = sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
                if image.pixelColor(x, y).red() > 100 and abs(image.pixelColor(x, y).red() - BROKEN_TEXT.red()) < 40
                and image.pixelColor(x, y).green() < 90)
    assert inked > 30
    editor.set_item(None)
    assert preview.view.placeholder == policy_preview.NO_ITEM and not preview.view.placeholder_is_error


def test_a_long_policy_name_shows_its_start(editor: PolicyEditor) -> None:
    name = "Texts: synonyms and typos for the customer reviews (needs WordNet data)"
    editor.edit("Rename policy", pd.set_name(editor.document, name))
    assert editor.name_edit.text() == name
    assert editor.name_edit.cursorPosition() == 0  # the box shows "Texts: synonyms …", not "… data)"
    assert name in editor.name_edit.toolTip()


@pytest.mark.parametrize("modality", ["image", "text"])
def test_the_op_palette_shows_every_op_name_in_full_at_the_default_size(qtbot, modality: str) -> None:
    from PySide6.QtGui import QFontMetrics

    ed = PolicyEditor(modality)
    qtbot.addWidget(ed)
    ed.resize(1280, 330)  # the editor dock in a 1280 x 800 window
    ed.show()
    qtbot.waitExposed(ed)
    view = ed.palette_view
    assert view.textElideMode() == Qt.TextElideMode.ElideMiddle
    metrics = QFontMetrics(view.font())
    model = view.model()
    clipped = []
    for row in range(model.rowCount()):
        head = model.index(row, 0)
        for child in range(model.rowCount(head)):
            index = model.index(child, 0, head)
            rect = view.visualRect(index)
            room = view.viewport().width() - rect.left() - 6
            if metrics.horizontalAdvance(index.data()) > room:
                clipped.append(index.data())
            assert index.data() in index.data(Qt.ItemDataRole.ToolTipRole)
    assert clipped == []
