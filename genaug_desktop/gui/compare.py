"""The compare view: a candidate beside the item it was made from.

Images are shown side by side (source | candidate), with an optional difference image: the
per-pixel change as a heat map, computed in a job thread together with the decoding (newest
selection wins, so moving through the grid quickly never queues up work). Text candidates are
shown beside their source with a word-level diff (:mod:`difflib`): words the candidate dropped
are struck through in red on the source side, words it added are green on the candidate side.

Run alone: ``python -m genaug_desktop.gui.compare PROJECT.genaug [CANDIDATE_ID]``.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui.colors import DIFF_ADDED_FILL, DIFF_ADDED_INK, DIFF_REMOVED_FILL, DIFF_REMOVED_INK, follow_theme
from genaug_desktop.gui.details import ImagePreview
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.thumbnails import image_from_raw
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    import numpy as np

    from genaug_desktop.core.jobs import CancelToken
    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.review_models import ReviewRow

#: Longest side of the decoded images (and of the difference image).
COMPARE_SIDE = 768
#: A pixel counts as changed when a channel moved by more than this many levels.
CHANGED_LEVELS = 24

STATUS_TEXT = {"pending": "Pending", "accepted": "✓ Accepted", "rejected": "✕ Rejected", "rule": "✕ Rejected by rule"}
_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]|\s+", re.UNICODE)


# ---- text: a word-level diff ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TextDiff:
    """Both sides as HTML with the changed words marked, and what changed in numbers."""

    source_html: str
    candidate_html: str
    removed: int
    added: int
    similarity: float

    def summary(self) -> str:
        if not self.removed and not self.added:
            return "Same words as the source."
        parts = []
        if self.removed:
            parts.append(f"{plural(self.removed, 'word')} removed or changed")
        if self.added:
            parts.append(f"{plural(self.added, 'word')} added or changed")
        parts.append(f"{self.similarity:.0%} of the words the same")
        return " · ".join(parts)


def tokens(text: str) -> list[str]:
    """Words, punctuation marks and runs of white space (joined, they give *text* back)."""
    return _TOKEN.findall(text)


def _words(toks: list[str]) -> int:
    return sum(1 for t in toks if not t.isspace())


def _mark(chunk: str, style: str) -> str:
    """*chunk* as HTML with its words (not the white space around them) in a styled span."""
    body = chunk.strip()
    if not body:
        return html.escape(chunk)
    start = chunk.index(body)
    lead, tail = chunk[:start], chunk[start + len(body):]
    return f'{html.escape(lead)}<span style="{style}">{html.escape(body)}</span>{html.escape(tail)}'


def word_diff(source: str, candidate: str) -> TextDiff:
    """Mark the words *candidate* dropped from *source* and the words it added."""
    a, b = tokens(source), tokens(candidate)
    # the theme's colours now (a live theme switch shows the row again: CompareView._restyle_text)
    removed_style = (f"background:{DIFF_REMOVED_FILL.name()}; color:{DIFF_REMOVED_INK.name()}; "
                     "text-decoration:line-through;")
    added_style = f"background:{DIFF_ADDED_FILL.name()}; color:{DIFF_ADDED_INK.name()};"
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left: list[str] = []
    right: list[str] = []
    removed = added = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            left.append(html.escape(old))
            right.append(html.escape(new))
            continue
        left.append(_mark(old, removed_style))
        right.append(_mark(new, added_style))
        removed += _words(a[i1:i2])
        added += _words(b[j1:j2])
    same = sum(_words(a[blk.a : blk.a + blk.size]) for blk in matcher.get_matching_blocks())
    total = max(_words(a), _words(b), 1)
    return TextDiff("".join(left), "".join(right), removed, added, same / total)


# ---- images: decode both, and the difference ---------------------------------------------------------
Raw = tuple[int, int, str, bytes]


@dataclass(slots=True)
class ImageComparison:
    """Decoded images for display (``(width, height, mode, bytes)``) or why one failed."""

    source: Raw | None = None
    source_error: str = ""
    source_size: tuple[int, int] | None = None
    candidate: Raw | None = None
    candidate_error: str = ""
    candidate_size: tuple[int, int] | None = None
    difference: Raw | None = None
    difference_note: str = ""


def _heat_lut() -> np.ndarray:
    """256 RGB colours from black through purple and orange to pale yellow (like "inferno")."""
    import numpy as np

    stops = np.array([0, 64, 128, 192, 255], dtype=np.float64)
    colours = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float64)
    x = np.arange(256)
    return np.stack([np.interp(x, stops, colours[:, c]) for c in range(3)], axis=1).astype(np.uint8)


def difference_image(source: np.ndarray, candidate: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A heat map of how much each pixel changed, with the mean change (levels) and the share of
    changed pixels. *candidate* is resized to *source*'s size first when they differ."""
    import numpy as np
    from PIL import Image

    if candidate.shape[:2] != source.shape[:2]:
        h, w = source.shape[:2]
        candidate = np.asarray(Image.fromarray(candidate).resize((w, h), Image.Resampling.BILINEAR))
    delta = np.abs(source.astype(np.int16) - candidate.astype(np.int16)).max(axis=2)
    mean = float(delta.mean())
    share = float((delta > CHANGED_LEVELS).mean())
    # Scale so the strongest change is bright, but never amplify faint noise into a glare.
    scale = 255.0 / max(48.0, float(np.percentile(delta, 99.5)))
    level = np.clip(delta * scale, 0, 255).astype(np.uint8)
    return _heat_lut()[level], mean, share


def _rgb_array(path: str) -> np.ndarray:
    import numpy as np

    from genaug_desktop.core.datasets.images import load_image, to_display

    img = to_display(load_image(path))
    if img.mode == "RGBA":  # compare what people see: on white
        from PIL import Image

        back = Image.new("RGB", img.size, (255, 255, 255))
        back.paste(img, mask=img.getchannel("A"))
        img = back
    return np.asarray(img.convert("RGB"))


def _fit(arr: np.ndarray, side: int) -> Raw:
    from PIL import Image

    img = Image.fromarray(arr)
    img.thumbnail((side, side), Image.Resampling.BILINEAR)
    return img.width, img.height, "RGB", img.tobytes()


def load_comparison(
    source_path: str | None, candidate_path: str | None, with_difference: bool, cancel: CancelToken | None = None,
) -> ImageComparison:
    """Decode the source and the candidate for display and, if asked, their difference (job thread)."""
    from genaug_desktop.core.datasets.images import make_thumbnail

    out = ImageComparison()
    arrays: dict[str, Any] = {}
    for which, path in (("source", source_path), ("candidate", candidate_path)):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if path is None:
            setattr(out, f"{which}_error", "no source item" if which == "source" else "no image")
            continue
        try:
            if with_difference:  # decode once: the full array serves the display and the difference
                arr = arrays[which] = _rgb_array(path)
                setattr(out, which, _fit(arr, COMPARE_SIDE))
                setattr(out, f"{which}_size", (arr.shape[1], arr.shape[0]))
            else:
                setattr(out, which, make_thumbnail(path, COMPARE_SIDE))
        except Exception as exc:  # a vanished or broken file is shown as such, never raised
            setattr(out, f"{which}_error", str(exc) or type(exc).__name__)
    if with_difference:
        if "source" in arrays and "candidate" in arrays:
            if cancel is not None:
                cancel.raise_if_cancelled()
            heat, mean, share = difference_image(arrays["source"], arrays["candidate"])
            out.difference = _fit(heat, COMPARE_SIDE)
            resized = " (candidate resized to the source's size)" if out.source_size != out.candidate_size else ""
            out.difference_note = f"mean change {mean:.1f} levels · {share:.0%} of pixels changed{resized}"
        else:
            out.difference_note = "needs both images"
    return out


# ---- the widget ---------------------------------------------------------------------------------------
def status_pill_style(badge: str) -> tuple[str, str]:
    from genaug_desktop.gui.colors import status_colors  # the theme's (light or dark) colours now

    fill, ink = status_colors(badge)
    return (f"QLabel {{ background: {fill.name()}; color: {ink.name()}; border-radius: 9px; padding: 1px 9px; "
            "font-weight: 600; }", STATUS_TEXT.get(badge, STATUS_TEXT["pending"]))


def _caption() -> QLabel:
    label = QLabel()
    label.setStyleSheet("color: palette(placeholder-text);")
    label.setWordWrap(False)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class _Pane(QWidget):
    """A caption over an image preview or a text browser."""

    def __init__(self, body: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = _caption()
        self.body = body
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.caption)
        layout.addWidget(body, 1)


def _text_browser() -> QTextBrowser:
    view = QTextBrowser()
    view.setOpenLinks(False)
    view.setFrameShape(QFrame.Shape.NoFrame)
    view.setStyleSheet("QTextBrowser { background: palette(base); border: 1px solid palette(midlight); border-radius: 6px; padding: 6px; }")
    view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the review grid
    view.setMinimumHeight(48)  # (it scrolls: a short compare view leaves the grid its row of cards)
    return view


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit, with the whole text in its tooltip then."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def full_text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802  (Qt's name)
        self._full = text
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(0, self.width()))
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")


class CompareView(QWidget):
    """The selected candidate beside its source; ``show_row(row)`` switches what is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.row: ReviewRow | None = None
        self.text_diff: TextDiff | None = None
        self._diff_texts: tuple[str, str] | None = None
        self.comparison: ImageComparison | None = None
        self._jobs = JobSlot(self)

        self.title = ElidedLabel()
        self.title.setStyleSheet("font-weight: 600;")
        self.status = QLabel()
        follow_theme(self.status, self._restyle_status)  # the pill's colours are fixed when its sheet is set
        follow_theme(self, self._restyle_text)  # and the word diff's when its HTML is set
        self.difference_check = QCheckBox("Show difference")
        self.difference_check.setToolTip("Show how much each pixel changed (computed in the background)")
        self.difference_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.difference_check.toggled.connect(self._on_difference_toggled)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.status)
        header.addWidget(self.title, 1)
        header.addWidget(self.difference_check)

        self.source_image = _Pane(ImagePreview())
        self.candidate_image = _Pane(ImagePreview())
        self.difference_image = _Pane(ImagePreview())
        self.difference_image.hide()
        image_page = QWidget()
        images = QHBoxLayout(image_page)
        images.setContentsMargins(0, 0, 0, 0)
        images.setSpacing(10)
        for pane in (self.source_image, self.candidate_image, self.difference_image):
            # (short, so that under a bottom panel the review grid keeps a whole row of cards)
            pane.body.setMinimumSize(96, 56)
            images.addWidget(pane, 1)

        self.source_text = _Pane(_text_browser())
        self.candidate_text = _Pane(_text_browser())
        text_page = QWidget()
        texts = QHBoxLayout(text_page)
        texts.setContentsMargins(0, 0, 0, 0)
        texts.setSpacing(10)
        texts.addWidget(self.source_text, 1)
        texts.addWidget(self.candidate_text, 1)

        self.empty = QLabel("Select a candidate to compare it with its source.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: palette(placeholder-text);")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(image_page)
        self.pages.addWidget(text_page)
        self._image_page, self._text_page = image_page, text_page

        # The provenance line (origin and every op with its values): it wraps rather than being cut
        # mid-value, and can be selected and copied; the tooltip holds the ops too.
        self.footer = QLabel()
        self.footer.setObjectName("compareProvenance")
        self.footer.setStyleSheet("color: palette(placeholder-text);")
        self.footer.setWordWrap(True)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.footer.setSizePolicy(policy)
        self.footer.setTextFormat(Qt.TextFormat.PlainText)
        self.footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.footer)
        self.show_row(None)

    # ---- content --------------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self.project = project
        self.show_row(None)

    def show_row(self, row: ReviewRow | None, provenance: dict[str, Any] | None = None) -> None:
        """Show *row* (a review row) beside its source; None shows the empty page."""
        self._jobs.abort()
        self.row = row
        self.text_diff = None
        self.comparison = None
        if row is None or self.project is None:
            self.title.setText("Compare")
            self.status.hide()
            self.difference_check.hide()
            self.footer.setText("")
            self.pages.setCurrentWidget(self.empty)
            return
        style, text = status_pill_style(row.badge)
        self.status.setStyleSheet(style)
        self.status.setText(text if row.badge != "rule" else f"✕ Rule {row.rule_id}")
        self.status.show()
        source = f" · from {row.source_key}" if row.source_key else " · no source item"
        label = f" · {row.label}" if row.label else ""
        self.title.setText(f"Candidate #{row.id}{label}{source}")
        self.footer.setText(self._footer_text(row, provenance))
        self.footer.setToolTip(self._ops_text(provenance))
        if row.is_image:
            self.difference_check.show()
            self.pages.setCurrentWidget(self._image_page)
            self._load_images()
        else:
            self.difference_check.hide()
            self.pages.setCurrentWidget(self._text_page)
            self._show_text(row)

    def refresh_status(self) -> None:
        """The row's status changed (a decision): update the pill and the footer only."""
        row = self.row
        if row is None:
            return
        style, text = status_pill_style(row.badge)
        self.status.setStyleSheet(style)
        self.status.setText(text if row.badge != "rule" else f"✕ Rule {row.rule_id}")
        self.footer.setText(self._footer_text(row, None))

    def _restyle_status(self) -> None:
        if self.row is not None:
            style, _text = status_pill_style(self.row.badge)
            if style != self.status.styleSheet():
                self.status.setStyleSheet(style)

    def _restyle_text(self) -> None:
        if self.text_diff is not None and self._diff_texts is not None:  # (the texts kept: no look-up again)
            self._show_diff(*self._diff_texts)

    def is_loading(self) -> bool:
        return self._jobs.is_busy()

    def shutdown(self) -> None:
        self._jobs.abort()
        if self._jobs.current is not None:
            self._jobs.current.wait()

    # ---- text ----------------------------------------------------------------------------------
    def _source_item(self, row: ReviewRow) -> Any:
        if self.project is None or row.source_key is None:
            return None
        return self.project.item(row.source_key)

    def _show_text(self, row: ReviewRow) -> None:
        item = self._source_item(row)
        candidate = row.text or ""
        if item is None or item.text is None:
            self.source_text.caption.setText("Source: none (a generated candidate)" if row.source_key is None
                                             else f"Source: {row.source_key} (not found)")
            self.source_text.body.setHtml("")
            self.candidate_text.caption.setText(f"Candidate #{row.id} · {plural(len(candidate.split()), 'word')}")
            self.candidate_text.body.setPlainText(candidate)
            return
        diff = self._show_diff(item.text, candidate)
        self.source_text.caption.setText(f"Source · {row.source_key} · {plural(len(item.text.split()), 'word')}")
        self.candidate_text.caption.setText(f"Candidate #{row.id} · {diff.summary()}")

    def _show_diff(self, source: str, candidate: str) -> TextDiff:
        """Both texts with the changed words marked in the theme's colours now."""
        diff = self.text_diff = word_diff(source, candidate)
        self._diff_texts = (source, candidate)
        self.source_text.body.setHtml(_paragraph(diff.source_html))
        self.candidate_text.body.setHtml(_paragraph(diff.candidate_html))
        return diff

    # ---- images --------------------------------------------------------------------------------
    def _load_images(self) -> None:
        row = self.row
        project = self.project
        if row is None or project is None:
            return
        item = self._source_item(row)
        source_path = project.source_path(item) if item is not None else None
        with_difference = self.difference_check.isChecked()
        self.difference_image.setVisible(with_difference)
        for pane, text in ((self.source_image, "Source"), (self.candidate_image, f"Candidate #{row.id}"),
                           (self.difference_image, "Difference")):
            pane.caption.setText(text)
            pane.body.set_image(None, "Loading…")
        worker = JobWorker(
            lambda cancel: load_comparison(source_path, row.path, with_difference, cancel), name="compare"
        )
        worker.returned.connect(self._on_images)
        worker.errored.connect(self._on_failed)
        self._jobs.start(worker)

    def _on_images(self, result: ImageComparison) -> None:
        if self.sender() is not self._jobs.current or self.row is None:
            return
        self.comparison = result
        row = self.row
        name = row.source_key.rsplit("/", 1)[-1] if row.source_key else ""
        for pane, raw, error, size, title in (
            (self.source_image, result.source, result.source_error, result.source_size, f"Source · {name}"),
            (self.candidate_image, result.candidate, result.candidate_error, result.candidate_size,
             f"Candidate #{row.id}"),
        ):
            if raw is None:
                pane.caption.setText(title)
                pane.body.set_image(None, f"Cannot show\n\n{error}")
                continue
            shown = size or (raw[0], raw[1])
            pane.caption.setText(f"{title} · {shown[0]} × {shown[1]} px")
            pane.body.set_image(image_from_raw(*raw))
        if self.difference_check.isChecked():
            self.difference_image.caption.setText(f"Difference · {result.difference_note}")
            self.difference_image.caption.setToolTip(result.difference_note)
            if result.difference is not None:
                self.difference_image.body.set_image(image_from_raw(*result.difference))
            else:
                self.difference_image.body.set_image(None, result.difference_note)

    def _on_failed(self, message: str) -> None:
        if self.sender() is not self._jobs.current:
            return
        for pane in (self.source_image, self.candidate_image, self.difference_image):
            pane.body.set_image(None, f"Cannot show\n\n{message}")

    def _on_difference_toggled(self, _on: bool) -> None:
        if self.row is not None and self.row.is_image:
            self._load_images()

    # ---- footer --------------------------------------------------------------------------------
    def _footer_text(self, row: ReviewRow, provenance: dict[str, Any] | None) -> str:
        parts = [row.origin + (f" · round {row.round}" if row.round is not None else "")]
        if row.badge == "rule":
            measured = f" (measured {row.measured:g})" if row.measured is not None else ""
            parts.append(f"rule {row.rule_id}: {row.reason or 'rejected'}{measured}")
        elif row.status == "rejected" and row.reason:
            parts.append(f"rejected: {row.reason}")
        ops = self._ops_text(provenance)
        if ops:
            parts.append(ops.replace("\n", " → "))
        return " · ".join(parts)

    def _ops_text(self, provenance: dict[str, Any] | None) -> str:
        if provenance is None and self.row is not None and self.project is not None:
            from genaug_desktop.gui.review_models import read_provenance

            provenance = read_provenance(self.project, self.row.id)
        if not provenance:
            return ""
        ops = provenance.get("ops")
        if not isinstance(ops, list):
            generator = provenance.get("generator")
            return f"generator {generator}" if generator else ""
        from genaug_desktop.gui.preview_render import describe_chain

        return describe_chain(ops)


def _paragraph(body: str) -> str:
    return f'<div style="font-size: 11pt; line-height: 140%; white-space: pre-wrap;">{body}</div>'


def main(argv: list[str] | None = None) -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.review_models import load_review_rows

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m genaug_desktop.gui.compare PROJECT.genaug [CANDIDATE_ID]", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    project = Project.open(args[0])
    rows = load_review_rows(project).rows
    wanted = int(args[1]) if len(args) > 1 else (rows[0].id if rows else 0)
    view = CompareView()
    view.set_project(project)
    view.show_row(next((r for r in rows if r.id == wanted), None))
    view.resize(900, 420)
    view.setWindowTitle(f"Compare — {project.name}")
    view.show()
    rc = app.exec()
    view.shutdown()
    project.close()
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
