"""The review panel: every candidate as a card with its status, a keyboard flow, and a compare view.

Cards show the candidate (image thumbnails come from the shared :class:`ThumbnailCache`, text as
the card's body) and a status line: *Pending*, *Accepted*, *Rejected* (by a person, with the
reason) or the rule that rejected it with the rule's reason. Filters narrow the grid by status,
origin, class, rule and round; the rules panel can narrow it to the candidates a rule would
reject (:meth:`ReviewPanel.show_ids`).

Keys (grid focused): **A** accept, **R** reject (the selection when several cards are selected,
else the current card, then move on), **Space** / **Shift+Space** next / previous, arrows move,
**Ctrl+Z** / **Ctrl+Shift+Z** undo / redo. Each decision is committed to the project before the
card shows it (see :class:`~genaug_desktop.gui.review_models.Reviewer`).

Run alone: ``python -m genaug_desktop.gui.review PROJECT.genaug``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genaug_desktop.gui import colors
from genaug_desktop.gui.colors import themed_style_sheet
from genaug_desktop.gui.compare import CompareView
from genaug_desktop.gui.delegates import MARGIN, PAD, ItemDelegate, _small_font
from genaug_desktop.core.formatting import plural
from genaug_desktop.gui.models import ModalityRole
from genaug_desktop.gui.preview_grid import ItemGridView
from genaug_desktop.gui.review_models import (
    NO_ROUND,
    STATUS_FILTERS,
    BadgeRole,
    HintRole,
    ReasonRole,
    ReviewFilter,
    ReviewModel,
    Reviewer,
    ReviewRow,
    ReviewSnapshot,
    RuleRole,
    load_review_rows,
    passed_rule_ids,
    read_provenance,
    read_states,
)
from genaug_desktop.gui.thumbnails import ThumbnailCache
from genaug_desktop.gui.timers import tracked_timer
from genaug_desktop.gui.worker import JobSlot, JobWorker

if TYPE_CHECKING:
    from genaug_desktop.core.store.project import Project
    from genaug_desktop.gui.delegates import AnyIndex

REFRESH_MS = 500

#: the text of each badge; its (fill, ink) are colors.status_colors(badge), in the theme now
BADGES = {"pending": "Pending", "accepted": "✓ Accepted", "rejected": "✕ Rejected", "rule": "✕ "}
BORDERS = {"accepted": QColor("#47cd89"), "rejected": QColor("#f97066"), "rule": QColor("#fdb022")}
MIN_DETAIL = 70  # px of reason text worth showing beside a badge
COMPARE_BESIDE_MIN_WIDTH = 700  # px: narrower, the compare view stays under the grid whatever the height
VEIL_ALPHA = 150  # the card's fill over a rejected image, this opaque


def _veil() -> QColor:
    """The card's fill (white in light, the dark card in dark), part see-through."""
    veil = QColor(colors.CARD_FILL)
    veil.setAlpha(VEIL_ALPHA)
    return veil


# ---- the card delegate ------------------------------------------------------------------------------
def _badge_pixmap(text: str, badge: str, font_key: str, dpr: float, font: QFont) -> QPixmap:
    return _themed_badge_pixmap(text, badge, font_key, dpr, font, colors.is_dark_theme())


@lru_cache(maxsize=512)
def _themed_badge_pixmap(text: str, badge: str, _font_key: str, dpr: float, font: QFont, _dark: bool) -> QPixmap:
    fill, ink = colors.status_colors(badge)
    fm = QFontMetrics(font)
    width = fm.horizontalAdvance(text) + 12
    height = fm.height() + 2
    pixmap = QPixmap(int(width * dpr), int(height * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(QRectF(0, 0, width, height), height / 2, height / 2)
    painter.setPen(ink)
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


def badge_text(badge: str, rule_id: str | None) -> str:
    return BADGES[badge] + (rule_id or "rule") if badge == "rule" else BADGES[badge]


class ReviewDelegate(ItemDelegate):
    """The item card plus a status line: a badge (pending, accepted, rejected, the rejecting rule)
    and the reason; decided cards get a coloured outline, rejected ones a veil over the content."""

    def _status_height(self, option: QStyleOptionViewItem) -> int:
        return QFontMetrics(_small_font(option.font)).height() + 2 + 6

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), size.height() + self._status_height(option))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        badge = str(index.data(BadgeRole) or "pending")
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            card = QRectF(option.rect).adjusted(MARGIN + 0.5, MARGIN + 0.5, -MARGIN - 0.5, -MARGIN - 0.5)
            self._paint_card(painter, option, card)
            selected = bool(option.state & QStyle.StateFlag.State_Selected)
            if badge in BORDERS and not selected:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(BORDERS[badge], 1.5))
                painter.drawRoundedRect(card, 6.0, 6.0)
            status_h = self._status_height(option)
            content = card.adjusted(0, 0, 0, -status_h)
            rejected = badge in ("rejected", "rule")
            if index.data(ModalityRole) == "text":
                opt = QStyleOptionViewItem(option)
                if rejected:
                    opt.palette.setColor(QPalette.ColorRole.Text, colors.MUTED_TEXT)
                self._paint_text(painter, opt, index, content)
            else:
                self._paint_image(painter, option, index, content)
                if rejected:
                    side = self.thumb_side(option)
                    area = QRectF(content.center().x() - side / 2, content.top() + PAD, side, side)
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(_veil())
                    painter.drawRect(area)
            self._paint_status(painter, option, index, badge, card, status_h)
        finally:
            painter.restore()

    def _paint_status(
        self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex, badge: str, card: QRectF, height: int,
    ) -> None:
        small = _small_font(option.font)
        bold = QFont(small)
        bold.setBold(True)
        fm = QFontMetrics(small)
        top = card.bottom() - PAD - fm.height() - 2
        left = card.left() + PAD
        width = card.width() - 2 * PAD
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        hint = index.data(HintRole)
        detail = index.data(ReasonRole) if badge in ("rule", "rejected") else None
        if hint and badge == "pending":
            detail = str(hint)
        text = badge_text(badge, index.data(RuleRole))
        bfm = QFontMetrics(bold)
        # The badge takes what it needs; the reason gets the rest when that is worth reading.
        natural = bfm.horizontalAdvance(text) + 12
        if width - natural < MIN_DETAIL:
            detail = None  # too narrow for both: the tooltip and the compare view tell the reason
        text = bfm.elidedText(text, Qt.TextElideMode.ElideRight, int(max(24, width - 12)))
        pixmap = _badge_pixmap(text, badge, bold.key(), dpr, bold)
        painter.drawPixmap(QPointF(left, top), pixmap)
        used = pixmap.width() / dpr + 6
        painter.setPen(colors.WARNING_INK if hint and badge == "pending" else colors.status_colors(badge)[1])
        room = width - used
        if detail:
            painter.setFont(small)
            painter.drawText(
                QRectF(left + used, top, room, fm.height() + 2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(str(detail), Qt.TextElideMode.ElideRight, int(room)),
            )


class ReviewGridView(ItemGridView):
    """The grid, with the review keys: ``review_key(action)`` for "accept", "reject", "next",
    "previous"; every other key does what it does in a list view."""

    review_key = Signal(str)

    KEYS = {
        (int(Qt.Key.Key_A), False): "accept",
        (int(Qt.Key.Key_R), False): "reject",
        (int(Qt.Key.Key_Space), False): "next",
        (int(Qt.Key.Key_Space), True): "previous",
    }

    def minimumSizeHint(self) -> QSize:
        """Room for one whole row of cards (caption and badge included), so that a bottom panel or
        the compare view never leaves the grid a strip of cut-off cards."""
        base = super().minimumSizeHint()
        model, delegate = self.model(), self.itemDelegate()
        if model is None or delegate is None or model.rowCount() == 0:
            return base
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        card = delegate.sizeHint(option, model.index(0, 0))
        return QSize(base.width(), max(base.height(), card.height() + 2 * self.frameWidth()))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers()
        plain = mods & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        action = None
        if plain == Qt.KeyboardModifier.NoModifier:
            action = self.KEYS.get((int(event.key()), bool(mods & Qt.KeyboardModifier.ShiftModifier)))
        if action is None:
            super().keyPressEvent(event)
            return
        event.accept()
        self.review_key.emit(action)


class ProgressLine(QWidget):
    """A thin progress line. Unlike QProgressBar, whose ``setValue`` repaints at once (with the
    window's other dirty areas: a few milliseconds on every decision), it only schedules a paint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fraction = 0.0
        self.setFixedHeight(4)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def set_fraction(self, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        if fraction != self.fraction:
            self.fraction = fraction
            self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(Qt.PenStyle.NoPen)
        r = QRectF(self.rect())
        p.setBrush(colors.PROGRESS_TRACK)
        p.drawRoundedRect(r, 2, 2)
        if self.fraction > 0:
            p.setBrush(colors.PROGRESS_FILL)
            p.drawRoundedRect(QRectF(r.left(), r.top(), max(r.height(), r.width() * self.fraction), r.height()), 2, 2)
        p.end()


# ---- the panel ----------------------------------------------------------------------------------------
def _banner_sheet() -> str:
    """The "showing the candidates a rule would reject" strip, in the message bar's warning colours."""
    fill, border, ink = colors.message_colors("warning")
    return (f"#reviewBanner {{ background: {fill.name()}; border-bottom: 1px solid {border.name()}; }} "
            f"#reviewBanner QLabel {{ color: {ink.name()}; }}")


def _combo(tooltip: str) -> QComboBox:
    combo = QComboBox()
    combo.setToolTip(tooltip)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Tab and the review keys stay with the grid
    return combo


def _set_options(combo: QComboBox, options: list[tuple[str, Any]]) -> None:
    """Replace a combo's entries, keeping the chosen value when it is still offered."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for text, value in options:
        combo.addItem(text, value)
    found = next((i for i, (_t, v) in enumerate(options) if v == current), 0)
    combo.setCurrentIndex(found)
    combo.blockSignals(False)


class ReviewPanel(QWidget):
    """Filters and counters over the grid of candidate cards, with the compare view below.

    Signals: ``decided(ids)`` after every committed change, ``count_changed(total)`` when the
    number of candidates changes, ``notice(level, message)`` for the window's message bar.
    """

    decided = Signal(list)
    count_changed = Signal(int)
    notice = Signal(str, str)

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.thumbnails = thumbnails
        self.project: Project | None = None
        self.model = ReviewModel(thumbnails, self)
        self.reviewer = Reviewer(self.model, self)
        self.undo_stack = self.reviewer.undo_stack
        self._slot = JobSlot(self)
        self._append_slot = JobSlot(self)
        self._refresh_timer = tracked_timer(self, REFRESH_MS, timeout=self.load_new)
        self._refresh_timer.setObjectName("reviewRefresh")
        self._compare_timer = tracked_timer(self, 0, timeout=self._update_compare)
        self._compare_timer.setObjectName("reviewCompare")
        self._loaded = False
        self._total = -1
        self._keep_id: int | None = None

        self._build_actions()
        self._build_toolbar()
        self._build_filters()
        self._build_body()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

        self.model.counts_changed.connect(self._update_counts)
        self.model.filter_changed.connect(self._update_counts)
        self.reviewer.decided.connect(self._on_decided)
        self.reviewer.error_occurred.connect(lambda message: self.notice.emit("error", message))
        self.view.review_key.connect(self._on_review_key)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.undo_stack.cleanChanged.connect(lambda _clean: self._update_actions())
        self.set_thumbnail_size(128)
        self._update_options()
        self._show_empty()
        self._update_actions()

    # ---- construction -----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        here = Qt.ShortcutContext.WidgetWithChildrenShortcut

        def action(text: str, slot: Any, tip: str, shortcut: str | None = None) -> QAction:
            act = QAction(text, self)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            if shortcut:
                # Shown in menus; the grid handles the single-letter keys itself, so typing in a
                # filter or the policy editor never decides anything.
                act.setShortcuts([QKeySequence(shortcut)])
                act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            self.addAction(act)
            return act

        self.accept_action = action("Accept", self.accept_selected, "Accept the selected candidates (A)", "A")
        self.reject_action = action("Reject", self.reject_selected, "Reject the selected candidates (R)", "R")
        self.accept_passed_action = action(
            "Accept All That Passed…", self.accept_all_passed,
            "Accept every pending candidate that passed the approved rules (asks first)")
        self.undo_action = self.undo_stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(here)
        self.redo_action = self.undo_stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setShortcutContext(here)
        self.addActions([self.undo_action, self.redo_action])

    def _build_toolbar(self) -> None:
        self.counts_label = QLabel("No candidates")
        self.counts_label.setObjectName("reviewCounts")
        self.counts_label.setStyleSheet("font-weight: 600;")
        # The counts may be cut on a narrow window; the tooltip and the status bar keep them whole.
        self.counts_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.counts_label.setMinimumWidth(110)
        self.progress = ProgressLine()
        self.progress.setObjectName("reviewProgress")

        def button(act: QAction, style: str = "", ink: QColor | None = None) -> QToolButton:
            b = QToolButton()
            b.setDefaultAction(act)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setAutoRaise(False)
            if ink is not None:  # (green / red ink that reads on the theme's button)
                themed_style_sheet(b, lambda: f"{style} QToolButton:enabled {{ color: {ink.name()}; font-weight: 600; }}")
            elif style:
                b.setStyleSheet(style)
            return b

        self.accept_button = button(self.accept_action, "QToolButton { padding: 2px 8px; }", colors.SUCCESS_INK)
        self.reject_button = button(self.reject_action, "QToolButton { padding: 2px 8px; }", colors.ERROR_INK)
        self.accept_passed_button = button(self.accept_passed_action, "QToolButton { padding: 2px 8px; }")
        self.accept_passed_button.setText("Accept Passed…")  # the menu says it in full
        self.undo_button = button(self.undo_action, "QToolButton { padding: 2px 8px; }")
        self.redo_button = button(self.redo_action, "QToolButton { padding: 2px 8px; }")
        for b, text in ((self.undo_button, "Undo"), (self.redo_button, "Redo")):
            b.setText(text)  # the action's text names the command ("Undo Accept #12"): too long here
        self.undo_action.changed.connect(lambda: self.undo_button.setText("Undo"))
        self.redo_action.changed.connect(lambda: self.redo_button.setText("Redo"))
        self.accept_passed_action.changed.connect(lambda: self.accept_passed_button.setText("Accept Passed…"))

        self.toolbar = QFrame()
        self.toolbar.setObjectName("reviewToolbar")
        self.toolbar.setStyleSheet("#reviewToolbar { background: palette(window); border-bottom: 1px solid palette(midlight); }")
        bar = QHBoxLayout(self.toolbar)
        bar.setContentsMargins(10, 5, 10, 5)
        bar.setSpacing(6)
        counts = QVBoxLayout()
        counts.setContentsMargins(0, 0, 0, 0)
        counts.setSpacing(3)
        counts.addWidget(self.counts_label)
        counts.addWidget(self.progress)
        bar.addLayout(counts, 1)
        bar.addSpacing(8)
        for b in (self.accept_button, self.reject_button, self.accept_passed_button):
            bar.addWidget(b)
        separator = QFrame()
        separator.setFrameShape(QFrame.Shape.VLine)
        separator.setStyleSheet("color: palette(midlight);")
        bar.addWidget(separator)
        bar.addWidget(self.undo_button)
        bar.addWidget(self.redo_button)

    def _build_filters(self) -> None:
        self.status_combo = _combo("Show candidates of one status")
        for text, value in STATUS_FILTERS:
            self.status_combo.addItem(text, value)
        self.origin_combo = _combo("Show candidates of one origin")
        self.class_combo = _combo("Show candidates of one class")
        self.rule_combo = _combo("Show the candidates one rule rejected")
        self.round_combo = _combo("Show the candidates of one self-training round")
        _set_options(self.origin_combo, [("All origins", None)])
        _set_options(self.class_combo, [("All classes", None)])
        _set_options(self.rule_combo, [("All rules", None)])
        _set_options(self.round_combo, [("All rounds", None)])
        for combo in self._combos():
            combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.shown_label = QLabel()
        self.shown_label.setStyleSheet("color: palette(placeholder-text);")
        self.keys_label = QLabel("A accept · R reject · Space next · Ctrl+Z undo")
        self.keys_label.setStyleSheet("color: palette(placeholder-text);")
        self.keys_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.keys_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.filter_bar = QFrame()
        self.filter_bar.setObjectName("reviewFilters")
        self.filter_bar.setStyleSheet("#reviewFilters { background: palette(window); border-bottom: 1px solid palette(midlight); }")
        row = QHBoxLayout(self.filter_bar)
        row.setContentsMargins(10, 3, 10, 3)
        row.setSpacing(6)
        for combo in self._combos():
            row.addWidget(combo)
        row.addWidget(self.shown_label)
        row.addWidget(self.keys_label, 1)

        self.banner = QFrame()
        self.banner.setObjectName("reviewBanner")
        themed_style_sheet(self.banner, _banner_sheet)
        self.banner_label = QLabel()
        self.banner_clear = QPushButton("Show all")
        self.banner_clear.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.banner_clear.clicked.connect(self.clear_ids)
        strip = QHBoxLayout(self.banner)
        strip.setContentsMargins(10, 4, 10, 4)
        strip.addWidget(self.banner_label, 1)
        strip.addWidget(self.banner_clear)
        self.banner.hide()

    def _combos(self) -> list[QComboBox]:
        return [self.status_combo, self.origin_combo, self.class_combo, self.rule_combo, self.round_combo]

    def _build_body(self) -> None:
        self.view = ReviewGridView()
        self.view.setObjectName("reviewGrid")
        self.delegate = ReviewDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.model)
        self.view.viewport_changed.connect(self.thumbnails.viewport_changed)
        # (the grid's minimum height is one row of cards: known once there is a card)
        self.model.modelReset.connect(self._grid_rows_changed)
        self.model.rowsInserted.connect(lambda *_a: self._grid_rows_changed())
        self.compare = CompareView()
        self.compare.setObjectName("reviewCompare")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("reviewSplitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.compare)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(True)
        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(placeholder-text); padding: 24px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.splitter)

    # ---- project and loading ------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """Review *project*'s candidates (None: nothing open, or a plain dataset)."""
        self._refresh_timer.stop()
        self._slot.abort()
        self._append_slot.abort()
        self.project = project
        self._loaded = False
        self._total = -1
        self.reviewer.set_project(project)
        self.compare.set_project(project)
        self.model.set_filter(ReviewFilter())
        self.model.set_snapshot(None)
        self.banner.hide()
        for combo in self._combos():
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self._update_options()
        self._show_empty()
        self._update_actions()
        if project is not None:
            self.refresh()

    def refresh(self) -> None:
        """Read the candidates again in the background (after a job changed them)."""
        self._refresh_timer.stop()
        self._append_slot.abort()
        project = self.project
        if project is None:
            return
        current = self.current_row()
        self._keep_id = current.id if current is not None else self._keep_id
        worker = JobWorker(lambda cancel: load_review_rows(project, cancel), name="load-review")
        worker.returned.connect(self._on_loaded)
        worker.errored.connect(lambda message: self.notice.emit("error", f"Cannot read the candidates: {message}"))
        self._slot.start(worker)

    def candidates_added(self, ids: list[int]) -> None:
        """New candidates exist (a job is storing them): add them soon, not per batch."""
        if ids and self.project is not None and not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def load_new(self) -> None:
        """Read only the candidates newer than those shown and add them (cheap on a big project)."""
        self._refresh_timer.stop()
        project = self.project
        if project is None:
            return
        if not self._loaded or self._slot.is_busy():
            self.refresh()  # a full read is on its way or needed anyway
            return
        after = self.model.max_id
        worker = JobWorker(lambda cancel: load_review_rows(project, cancel, after), name="load-review-new")
        worker.returned.connect(self._on_appended)
        worker.errored.connect(lambda message: self.notice.emit("error", f"Cannot read the candidates: {message}"))
        self._append_slot.start(worker)

    def show_changes(self, ids: list[int]) -> None:
        """These candidates changed in the database (e.g. the filter rejected them): show it."""
        if self.project is None or not ids:
            return
        self.model.apply_states(read_states(self.project, ids))
        self._update_options()
        row = self.compare.row
        if row is not None and row.id in set(ids):
            self.compare.refresh_status()

    def is_settled(self) -> bool:
        timers = self._refresh_timer.isActive() or self._compare_timer.isActive()
        jobs = self._slot.is_busy() or self._append_slot.is_busy()
        return not jobs and not timers and not self.compare.is_loading()

    def shutdown(self) -> None:
        self._refresh_timer.stop()
        self._compare_timer.stop()
        for slot in (self._slot, self._append_slot):
            slot.abort()
            if slot.current is not None:
                slot.current.wait()
        self.compare.shutdown()

    def set_thumbnail_size(self, size: int) -> None:
        self.model.thumbnail_size = int(size * self.devicePixelRatioF())
        self.view.setIconSize(QSize(size, size))
        self.view.updateGeometry()

    def _on_appended(self, snapshot: ReviewSnapshot) -> None:
        if self.project is None or not self._loaded:
            return
        had = self.model.rowCount()
        if self.model.append_rows(snapshot.rows):
            self._update_options()
            if not had and self.model.rowCount():
                self._select_row(0)
            total = self.model.counts.total
            if total != self._total:
                self._total = total
                self.count_changed.emit(total)
            self._show_content()

    def _on_loaded(self, snapshot: ReviewSnapshot) -> None:
        if self.project is None:
            return
        self._loaded = True
        current = self.current_row()  # where the person is now (they may have moved while it loaded)
        keep = current.id if current is not None else self._keep_id
        self.model.set_snapshot(snapshot)
        self._update_options()
        self.model.set_filter(self._filter_from_combos(), self._hints_in_use())
        if self.model.rowCount():
            row = self.model.row_of_id(keep) if keep is not None else None
            self._select_row(row if row is not None else 0)
        else:
            self.compare.show_row(None)
        total = len(snapshot.rows)
        if total != self._total:
            self._total = total
            self.count_changed.emit(total)
        self._show_content()
        self._update_actions()

    # ---- filters ---------------------------------------------------------------------------------------
    def _update_options(self) -> None:
        m = self.model
        _set_options(self.origin_combo, [("All origins", None)] + [(o.capitalize(), o) for o in m.origins()])
        labels = m.labels()
        _set_options(self.class_combo, [("All classes", None)] + [(label or "(no class)", label) for label in labels])
        _set_options(self.rule_combo, [("All rules", None)] + [(f"Rule: {r}", r) for r in m.rule_ids()])
        rounds = m.rounds()
        options: list[tuple[str, Any]] = [("All rounds", None)]
        if rounds:
            options += [("No round", NO_ROUND)] + [(f"Round {r}", r) for r in rounds]
        _set_options(self.round_combo, options)
        self.round_combo.setVisible(bool(rounds))
        self.origin_combo.setVisible(len(m.origins()) > 1)
        self.rule_combo.setEnabled(bool(m.rule_ids()))
        self._fit_filter_bar()

    def _filter_from_combos(self) -> ReviewFilter:
        current = self.model.review_filter
        return ReviewFilter(
            status=self.status_combo.currentData(),
            origin=self.origin_combo.currentData(),
            label=self.class_combo.currentData(),
            rule_id=self.rule_combo.currentData(),
            round=self.round_combo.currentData(),
            ids=current.ids,
            ids_title=current.ids_title,
        )

    def _hints_in_use(self) -> dict[int, str]:
        f = self.model.review_filter
        return {} if f.ids is None else {i: h for i in f.ids if (h := self.model.hint(i))}

    def _apply_filter(self) -> None:
        current = self.current_row()
        self.model.set_filter(self._filter_from_combos(), self._hints_in_use())
        row = self.model.row_of_id(current.id) if current is not None else None
        if self.model.rowCount():
            self._select_row(row if row is not None else 0)
        else:
            self.compare.show_row(None)
        self._show_content()

    def set_status_filter(self, status: str | None) -> None:
        index = next((i for i, (_t, v) in enumerate(STATUS_FILTERS) if v == status), 0)
        self.status_combo.setCurrentIndex(index)

    def set_class_filter(self, label: str | None) -> None:
        found = self.class_combo.findData(label)
        self.class_combo.setCurrentIndex(max(0, found))

    def set_rule_filter(self, rule_id: str | None) -> None:
        found = self.rule_combo.findData(rule_id)
        self.rule_combo.setCurrentIndex(max(0, found))

    def show_ids(self, ids: list[int], title: str, hints: dict[int, str] | None = None) -> None:
        """Narrow the grid to *ids* (e.g. what a rule would reject), with a banner to undo it."""
        for combo in self._combos():
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.model.set_filter(ReviewFilter(ids=frozenset(ids), ids_title=title), hints)
        self.banner_label.setText(title)
        self.banner.show()
        if self.model.rowCount():
            self._select_row(0)
        else:
            self.compare.show_row(None)
        self._show_content()
        self.view.setFocus()

    def clear_ids(self) -> None:
        self.banner.hide()
        f = self._filter_from_combos()
        self.model.set_filter(ReviewFilter(f.status, f.origin, f.label, f.rule_id, f.round))
        if self.model.rowCount():
            self._select_row(0)
        self._show_content()

    # ---- selection and moving ----------------------------------------------------------------------------
    def current_row(self) -> ReviewRow | None:
        index = self.view.currentIndex()
        return self.model.review_row(index.row()) if index.isValid() else None

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        return [self.model.review_row(r).id for r in rows]

    def select_id(self, candidate_id: int) -> bool:
        row = self.model.row_of_id(candidate_id)
        if row is None:
            return False
        self._select_row(row)
        return True

    def _select_row(self, row: int) -> None:
        index = self.model.index(max(0, min(row, self.model.rowCount() - 1)))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)

    def move(self, step: int) -> None:
        index = self.view.currentIndex()
        n = self.model.rowCount()
        if not n:
            return
        row = 0 if not index.isValid() else index.row() + step
        if 0 <= row < n:
            self._select_row(row)

    # ---- decisions ---------------------------------------------------------------------------------------
    def _targets(self) -> tuple[list[int], bool]:
        """What A/R act on: the selection when several cards are selected, else the current card."""
        selected = self.selected_ids()
        if len(selected) > 1:
            return selected, False
        current = self.current_row()
        return ([current.id], True) if current is not None else ([], False)

    def decide_selected(self, status: str) -> bool:
        ids, single = self._targets()
        if not ids:
            return False
        committed = self.reviewer.decide(ids, status)
        if single:
            self.move(+1)
        return committed

    def accept_selected(self) -> bool:
        return self.decide_selected("accepted")

    def reject_selected(self) -> bool:
        return self.decide_selected("rejected")

    def accept_all_passed(self) -> int:
        """Accept every pending candidate that passed the approved rules, after a confirmation."""
        project = self.project
        if project is None:
            return 0
        ids, rules = passed_rule_ids(project)
        if not ids:
            if not rules:
                message = "No rule is approved yet: approve rules in the Rules panel and run the filter first."
            else:
                message = "No pending candidate has passed the approved rules yet: run the filter first."
            self.notice.emit("info", message)
            return 0
        pending = self.model.counts.pending
        unchecked = max(0, pending - len(ids))
        text = (f"Accept {plural(len(ids), 'pending candidate')} that passed the "
                f"{plural(rules, 'approved rule')}?")
        if unchecked:
            text += f"\n\n{plural(unchecked, 'other pending candidate')} the current rules have not checked stay pending."
        text += "\n\nYou can undo this with Ctrl+Z."
        answer = QMessageBox.question(
            self, "Accept all that passed", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return 0
        if not self.reviewer.decide(ids, "accepted"):
            return 0
        self.notice.emit("info", f"Accepted {plural(len(ids), 'candidate')} that passed the rules.")
        return len(ids)

    def undo(self) -> None:
        self.undo_stack.undo()

    def redo(self) -> None:
        self.undo_stack.redo()

    # ---- slots ---------------------------------------------------------------------------------------------
    def _on_review_key(self, action: str) -> None:
        if action == "accept":
            self.accept_selected()
        elif action == "reject":
            self.reject_selected()
        elif action == "next":
            self.move(+1)
        elif action == "previous":
            self.move(-1)

    def _on_current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        # The compare view follows a moment later: a key press returns as soon as its decision is
        # committed and shown, and holding Space through the grid updates the view once, not per card.
        self._compare_timer.start()
        self._update_actions()

    def _update_compare(self) -> None:
        current = self.view.currentIndex()
        row = self.model.review_row(current.row()) if current.isValid() else None
        if row is self.compare.row:
            return
        provenance = read_provenance(self.project, row.id) if row is not None and self.project is not None else None
        self.compare.show_row(row, provenance)

    def _on_decided(self, ids: list[int]) -> None:
        row = self.compare.row
        if row is not None and row.id in ids:
            self.compare.refresh_status()
        self.decided.emit(ids)

    def _update_counts(self) -> None:
        counts = self.model.counts
        self._fit_counts()
        self.counts_label.setToolTip(f"{counts.text()} · {counts.pending:,} pending")
        self.progress.set_fraction(counts.reviewed / counts.total if counts.total else 0.0)
        self.progress.setToolTip(f"{counts.pending:,} pending")
        shown = self.model.rowCount()
        self.shown_label.setText(f"{shown:,} shown" if self.model.review_filter.is_filtering else "")
        if self._loaded:
            self._show_content()

    def _update_actions(self) -> None:
        has = self.project is not None and self.view.currentIndex().isValid()
        self.accept_action.setEnabled(has)
        self.reject_action.setEnabled(has)
        self.accept_passed_action.setEnabled(self.project is not None and self.model.counts.pending > 0)

    def _show_content(self) -> None:
        if self.project is None or not self._loaded:
            self._show_empty()
            return
        self.filter_bar.show()
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.splitter)
            return
        if self.model.counts.total:
            self.empty_label.setText("No candidate matches these filters.")
        else:
            self.empty_label.setText("No candidates yet. Build a policy in the editor and press Augment…")
        self.stack.setCurrentWidget(self.empty_label)

    def _show_empty(self) -> None:
        self.filter_bar.setVisible(self.project is not None)
        if self.project is None:
            self.empty_label.setText(
                "Review needs a project (a NAME.genaug folder beside the dataset), where candidates and "
                "decisions are kept.\nBuild a policy and press Augment… to create one, or open a project "
                "with File ▸ Open Project…")
        else:
            self.empty_label.setText("Loading candidates…")
        self.stack.setCurrentWidget(self.empty_label)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_filter_bar()
        self._fit_counts()
        self._arrange_body()

    def _grid_rows_changed(self) -> None:
        self.view.updateGeometry()
        self._arrange_body()

    def _arrange_body(self) -> None:
        """The compare view under the grid; beside it when the panel is too short for a whole row
        of cards above the compare view (a 1280 x 800 window with a bottom panel open)."""
        splitter = self.splitter
        room = splitter.height()
        if room <= 0 or self.model.rowCount() == 0:
            return
        need = (self.view.minimumSizeHint().height() + self.compare.minimumSizeHint().height()
                + splitter.handleWidth())
        beside = room < need and splitter.width() >= COMPARE_BESIDE_MIN_WIDTH
        orientation = Qt.Orientation.Horizontal if beside else Qt.Orientation.Vertical
        if splitter.orientation() != orientation:
            splitter.setOrientation(orientation)
            total = splitter.width() if beside else room
            splitter.setSizes([total * 3 // 5, total - total * 3 // 5] if beside else [total * 2 // 3, total - total * 2 // 3])

    def _fit_counts(self) -> None:
        """The most detailed counts line that fits."""
        counts = self.model.counts
        room = self.counts_label.width()
        fm = self.counts_label.fontMetrics()
        text = counts.text(0)
        for detail in (2, 1):
            full = counts.text(detail)
            if fm.horizontalAdvance(full) + 4 <= room:
                text = full
                break
        self.counts_label.setText(text)

    def _fit_filter_bar(self) -> None:
        """Show the key reminder only when it fits whole beside the filters."""
        row = self.filter_bar.layout()
        margins = row.contentsMargins()
        beside = [c for c in self._combos() if not c.isHidden()] + [self.shown_label]
        # Every widget before it, the spacing after each and the bar's margins (without the
        # spacing the reminder was shown a few pixels too narrow, its first letters cut off).
        used = sum(w.sizeHint().width() + row.spacing() for w in beside) + margins.left() + margins.right()
        self.keys_label.setVisible(self.width() - used >= self.keys_label.sizeHint().width())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Keys the compare view or a button did not use (the grid handles its own).
        mods = event.modifiers()
        plain = mods & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        action = None
        if plain == Qt.KeyboardModifier.NoModifier:
            action = ReviewGridView.KEYS.get((int(event.key()), bool(mods & Qt.KeyboardModifier.ShiftModifier)))
        if action is None:
            super().keyPressEvent(event)
            return
        event.accept()
        self._on_review_key(action)


def main(argv: list[str] | None = None) -> int:
    import sys

    from genaug_desktop.gui.demo import run_project_panel

    cache = ThumbnailCache()

    def build(project: Project) -> ReviewPanel:
        panel = ReviewPanel(cache)
        panel.set_project(project)
        panel.notice.connect(lambda level, message: print(f"{level}: {message}", file=sys.stderr))
        return panel

    try:
        return run_project_panel("review", "Review", (1100, 760), build, argv)
    finally:
        cache.shutdown()

if __name__ == "__main__":
    raise SystemExit(main())
