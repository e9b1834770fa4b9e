"""The shared count/size helpers every report uses (CLI, export plan, rule explanations)."""

from __future__ import annotations

import pytest

from genaug_desktop.core.formatting import human_bytes, plural


@pytest.mark.parametrize(("n", "word", "expected"), [
    (0, "item", "0 items"), (1, "item", "1 item"), (1234, "item", "1,234 items"),
    (1, "class", "1 class"), (2, "class", "2 classes"), (3, "box", "3 boxes"), (2, "batch", "2 batches"),
    (2, "real image", "2 real images"),
])
def test_plural(n: int, word: str, expected: str) -> None:
    assert plural(n, word) == expected


def test_plural_with_irregular_word() -> None:
    assert plural(2, "child", "children") == "2 children"
    assert plural(1, "child", "children") == "1 child"


def test_export_plan_summary_counts_classes_in_words() -> None:
    from genaug_desktop.core.export.options import ExportOptions
    from genaug_desktop.core.export.plan import ExportPlan, Sample

    def plan(labels: list[str]) -> ExportPlan:
        samples = [Sample(uid=f"item:{i}", origin="original", label=lab, split="train", source=str(i))
                   for i, lab in enumerate(labels)]
        return ExportPlan(options=ExportOptions(), modality="image", project_path="p", dataset_root="d",
                          destination=None, classes=sorted(set(labels)), samples=samples)

    assert " in 1 class as " in plan(["cat", "cat"]).summary()
    assert " in 2 classes as " in plan(["cat", "dog"]).summary()


@pytest.mark.parametrize(("n", "expected"), [(0, "0 bytes"), (1, "1 byte"), (1023, "1,023 bytes"),
                                             (1024, "1.0 KB"), (29_800, "29.1 KB"), (5 * 1024 ** 3, "5.0 GB")])
def test_human_bytes(n: int, expected: str) -> None:
    assert human_bytes(n) == expected
