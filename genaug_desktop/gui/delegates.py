"""Delegates that paint dataset items as cards, and problems as two-line entries.

Painting never decodes anything: the thumbnail comes from the model (``ThumbnailRole``) or is
not there yet, in which case a quiet placeholder is painted until ``dataChanged`` arrives.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from genaug_desktop.gui.colors import (
    BADGE_FILL,
    BADGE_INK,
    BROKEN_BORDER,
    BROKEN_FILL,
    BROKEN_TEXT,
    CARD_BORDER,
    CARD_FILL,
    MUTED_TEXT,
    PLACEHOLDER_FILL,
    PLACEHOLDER_GLYPH,
    ROW_SEPARATOR,
    is_dark_theme,
    label_colors,
)
from genaug_desktop.core.formatting import first_lines
from genaug_desktop.gui.models import BrokenRole, LabelRole, ModalityRole, NameRole, TextRole, ThumbnailRole

AnyIndex = QModelIndex | QPersistentModelIndex

MARGIN = 4  # outside the card: half the gap between two cards
PAD = 8  # inside the card
RADIUS = 6.0
#: Scaled thumbnails an ItemDelegate keeps (a few screenfuls; 64 KB each at 128 px).
SCALED_CACHE = 400
#: Drawn image cards an ItemDelegate keeps (a few screenfuls; ~110 KB each at 128 px).
CARD_CACHE = 240

def _small_font(base: QFont, delta: float = -1.0) -> QFont:
    font = QFont(base)
    size = font.pointSizeF()
    if size > 0:
        font.setPointSizeF(max(6.0, size + delta))
    return font


def draw_label_pill(painter: QPainter, x: float, y: float, label: str, font: QFont, max_width: float) -> float:
    """Draw a rounded class chip at (x, y) (top-left); return its width.

    Chips are rendered once per (label, font, width, pixel ratio) and then only copied: a grid
    repaint draws dozens of the same few chips, and text layout is the costly part.
    """
    dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    pixmap = _pill_pixmap(label, font.key(), int(max_width), dpr, font, is_dark_theme())
    painter.drawPixmap(QPointF(x, y), pixmap)
    return pixmap.width() / dpr


@lru_cache(maxsize=1024)
def _pill_pixmap(label: str, _font_key: str, max_width: int, dpr: float, font: QFont, dark: bool) -> QPixmap:
    fm = QFontMetrics(font)
    text = fm.elidedText(label, Qt.TextElideMode.ElideRight, max(8, max_width - 12))
    width = fm.horizontalAdvance(text) + 12
    height = fm.height() + 2
    pixmap = QPixmap(int(width * dpr), int(height * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    background, foreground = label_colors(label, dark)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(background)
    painter.drawRoundedRect(QRectF(0, 0, width, height), height / 2, height / 2)
    painter.setPen(foreground)
    painter.setFont(font)
    painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


def draw_wrapped_text(painter: QPainter, rect: QRectF, text: str, font: QFont) -> None:
    """Word-wrap *text* into *rect*; the last line that fits ends with an ellipsis if cut."""
    fm = QFontMetrics(font)
    line_height = fm.lineSpacing()
    max_lines = max(1, int(rect.height() // line_height))
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    spans: list[tuple[int, int]] = []
    layout.beginLayout()
    while len(spans) <= max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(rect.width())
        spans.append((line.textStart(), line.textLength()))
    layout.endLayout()
    painter.setFont(font)
    for number, (start, length) in enumerate(spans[:max_lines]):
        baseline = QPointF(rect.left(), rect.top() + number * line_height + fm.ascent())
        if number == max_lines - 1 and len(spans) > max_lines:
            rest = text[start:]
            painter.drawText(baseline, fm.elidedText(rest, Qt.TextElideMode.ElideRight, int(rect.width())))
        else:
            painter.drawText(baseline, text[start : start + length].rstrip())


def _draw_image_glyph(painter: QPainter, rect: QRectF) -> None:
    """A faint picture frame with a hill and a sun: "an image goes here"."""
    side = min(rect.width(), rect.height()) * 0.32
    box = QRectF(rect.center().x() - side / 2, rect.center().y() - side * 0.4, side, side * 0.8)
    pen = QPen(PLACEHOLDER_GLYPH, max(1.5, side / 18))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(box, side / 10, side / 10)
    hill = QPainterPath()
    hill.moveTo(box.left() + side * 0.1, box.bottom() - side * 0.12)
    hill.lineTo(box.left() + side * 0.4, box.top() + side * 0.38)
    hill.lineTo(box.left() + side * 0.6, box.top() + side * 0.56)
    hill.lineTo(box.left() + side * 0.72, box.top() + side * 0.46)
    hill.lineTo(box.right() - side * 0.1, box.bottom() - side * 0.12)
    painter.drawPath(hill)
    painter.setBrush(PLACEHOLDER_GLYPH)
    r = side * 0.08
    painter.drawEllipse(QPointF(box.right() - side * 0.27, box.top() + side * 0.24), r, r)


class ItemDelegate(QStyledItemDelegate):
    """Paints an item as a card.

    Images: the thumbnail centred in a square of ``option.decorationSize`` (the view's icon
    size), a placeholder while it is decoding, a "broken" badge with the reason when it cannot be
    decoded; the class chip and the file name below. Texts: the class chip and ``file:line`` on
    top, the first lines of the text word-wrapped below.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: Width the cards share (the view sets it on resize); 0: natural card width.
        self.row_width = 0
        self._scaled_cache: OrderedDict[tuple[int, int, float], QPixmap] = OrderedDict()
        self._card_cache: OrderedDict[tuple[object, ...], QPixmap] = OrderedDict()

    # ---- geometry --------------------------------------------------------------------------------
    @staticmethod
    def thumb_side(option: QStyleOptionViewItem) -> int:
        size = option.decorationSize
        return max(32, size.width() if size.isValid() else 128)

    @staticmethod
    def text_card_width(side: int) -> int:
        return max(220, int(side * 1.9))

    def justified(self, natural: int) -> int:
        """Widen cards so that whole columns fill the row: no ragged gap on the right."""
        if self.row_width <= natural:
            return natural
        columns = self.row_width // natural
        return self.row_width // columns

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        side = self.thumb_side(option)
        fm = QFontMetrics(option.font)
        small = QFontMetrics(_small_font(option.font))
        if index.data(ModalityRole) == "text":
            body = max(fm.lineSpacing() * 3, int(side * 0.5))
            height = 2 * MARGIN + 2 * PAD + small.height() + 2 + 6 + body
            return QSize(self.justified(self.text_card_width(side) + 2 * MARGIN), height)
        height = 2 * MARGIN + 2 * PAD + side + 6 + small.height() + 2 + 3 + small.height()
        return QSize(self.justified(side + 2 * PAD + 2 * MARGIN), height)

    # ---- painting --------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        if index.data(ModalityRole) != "text":
            self._paint_image_card(painter, option, index)
            return
        painter.save()
        try:
            self._paint_text(painter, option, index, self._draw_card(painter, option))
        finally:
            painter.restore()

    def _draw_card(self, painter: QPainter, option: QStyleOptionViewItem) -> QRectF:
        """The card's background and border in ``option.rect``; returns the card's rectangle."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        card = QRectF(option.rect).adjusted(MARGIN + 0.5, MARGIN + 0.5, -MARGIN - 0.5, -MARGIN - 0.5)
        self._paint_card(painter, option, card)
        return card

    def _paint_image_card(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """An image card is drawn once into a kept pixmap (the most recent :data:`CARD_CACHE`),
        keyed by everything it shows, and then only copied. The grid repaints its visible cards
        whenever a scan batch or a batch of thumbnails arrives; each Qt call of a full card
        (two dozen) gives up Python's lock, and while the scan thread runs every one of them waits
        to get it back: one copy instead of two dozen calls keeps those repaints short."""
        reason = index.data(BrokenRole)
        thumb = index.data(ThumbnailRole) if reason is None else None
        thumb_key = thumb.cacheKey() if isinstance(thumb, QImage) and not thumb.isNull() else None
        device = painter.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        rect = option.rect
        state = option.state
        key = (
            rect.width(), rect.height(), option.decorationSize.width(), option.decorationSize.height(), dpr,
            bool(state & QStyle.StateFlag.State_Selected), bool(state & QStyle.StateFlag.State_MouseOver),
            option.palette.color(QPalette.ColorRole.Highlight).rgba(), option.font.key(), is_dark_theme(),
            reason, thumb_key, index.data(LabelRole), index.data(NameRole),
        )
        pixmap = self._card_cache.get(key)
        if pixmap is None:
            pixmap = QPixmap(max(1, round(rect.width() * dpr)), max(1, round(rect.height() * dpr)))
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            local = QStyleOptionViewItem(option)
            local.rect = QRect(0, 0, rect.width(), rect.height())
            card_painter = QPainter(pixmap)
            try:
                self._paint_image(card_painter, local, index, self._draw_card(card_painter, local))
            finally:
                card_painter.end()
            self._card_cache[key] = pixmap
            if len(self._card_cache) > CARD_CACHE:
                self._card_cache.popitem(last=False)
        else:
            self._card_cache.move_to_end(key)
        painter.drawPixmap(rect.topLeft(), pixmap)

    def _paint_card(self, painter: QPainter, option: QStyleOptionViewItem, card: QRectF) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        highlight = option.palette.color(QPalette.ColorRole.Highlight)
        if selected:
            fill = QColor(highlight)
            fill.setAlpha(40)
            painter.setBrush(CARD_FILL)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(card, RADIUS, RADIUS)
            painter.setBrush(fill)
            painter.setPen(QPen(highlight, 2.0))
        else:
            painter.setBrush(CARD_FILL)
            painter.setPen(QPen(CARD_BORDER.darker(115) if hovered else CARD_BORDER, 1.0))
        painter.drawRoundedRect(card, RADIUS, RADIUS)

    def _paint_image(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex, card: QRectF) -> None:
        side = self.thumb_side(option)
        area = QRectF(card.center().x() - side / 2, card.top() + PAD, side, side)
        reason = index.data(BrokenRole)
        thumb = index.data(ThumbnailRole) if reason is None else None
        if reason is not None:
            self._paint_broken(painter, option, area, str(reason))
        elif isinstance(thumb, QImage) and not thumb.isNull():
            pixmap = self._scaled(thumb, side, painter.device().devicePixelRatioF())
            w, h = pixmap.deviceIndependentSize().width(), pixmap.deviceIndependentSize().height()
            painter.drawPixmap(QPointF(round(area.center().x() - w / 2), round(area.center().y() - h / 2)), pixmap)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PLACEHOLDER_FILL)
            painter.drawRoundedRect(area, 4, 4)
            _draw_image_glyph(painter, area)

        small = _small_font(option.font)
        y = area.bottom() + 6
        label = index.data(LabelRole)
        width = card.width() - 2 * PAD
        if label:
            draw_label_pill(painter, card.left() + PAD, y, str(label), small, width)
        fm = QFontMetrics(small)
        name_y = y + fm.height() + 2 + 3
        painter.setFont(small)
        painter.setPen(MUTED_TEXT)
        name = fm.elidedText(str(index.data(NameRole) or ""), Qt.TextElideMode.ElideMiddle, int(width))
        painter.drawText(QRectF(card.left() + PAD, name_y, width, fm.height()), Qt.AlignmentFlag.AlignLeft, name)

    def _scaled(self, thumb: QImage, side: int, dpr: float) -> QPixmap:
        """*thumb* fitted into *side* × *side*, scaled once and kept (the most recent
        :data:`SCALED_CACHE` of them): a paint then copies pixels instead of scaling a QImage
        every time (which took most of a grid repaint as thumbnails arrived)."""
        key = (thumb.cacheKey(), side, dpr)
        pixmap = self._scaled_cache.get(key)
        if pixmap is not None:
            self._scaled_cache.move_to_end(key)
            return pixmap
        scale = min(side / thumb.width(), side / thumb.height())
        w, h = max(1, round(thumb.width() * scale * dpr)), max(1, round(thumb.height() * scale * dpr))
        mode = Qt.TransformationMode.SmoothTransformation if scale < 3.0 else Qt.TransformationMode.FastTransformation
        image = thumb if (w, h) == (thumb.width(), thumb.height()) else thumb.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, mode)
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(dpr)
        self._scaled_cache[key] = pixmap
        if len(self._scaled_cache) > SCALED_CACHE:
            self._scaled_cache.popitem(last=False)
        return pixmap

    def _paint_broken(self, painter: QPainter, option: QStyleOptionViewItem, area: QRectF, reason: str) -> None:
        painter.setPen(QPen(BROKEN_BORDER, 1.0))
        painter.setBrush(BROKEN_FILL)
        painter.drawRoundedRect(area, 4, 4)
        badge_font = _small_font(option.font)
        badge_font.setBold(True)
        fm = QFontMetrics(badge_font)
        badge = QRectF(area.left() + 6, area.top() + 6, fm.horizontalAdvance("⚠ BROKEN") + 12, fm.height() + 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BADGE_FILL)
        painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
        painter.setPen(BADGE_INK)
        painter.setFont(badge_font)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "⚠ BROKEN")
        painter.setPen(BROKEN_TEXT)
        body = QRectF(area.left() + 6, badge.bottom() + 4, area.width() - 12, area.bottom() - badge.bottom() - 8)
        if body.height() > 8:
            draw_wrapped_text(painter, body, reason, _small_font(option.font))

    def _paint_text(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex, card: QRectF) -> None:
        small = _small_font(option.font)
        fm_small = QFontMetrics(small)
        inner = card.adjusted(PAD, PAD, -PAD, -PAD)
        label = index.data(LabelRole)
        pill_width = 0.0
        if label:
            pill_width = draw_label_pill(painter, inner.left(), inner.top(), str(label), small, inner.width() * 0.6)
        name = str(index.data(NameRole) or "")
        name_room = inner.width() - pill_width - 8
        painter.setFont(small)
        painter.setPen(MUTED_TEXT)
        painter.drawText(
            QRectF(inner.right() - name_room, inner.top(), name_room, fm_small.height() + 2),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            fm_small.elidedText(name, Qt.TextElideMode.ElideLeft, int(name_room)),
        )
        body = QRectF(inner.left(), inner.top() + fm_small.height() + 2 + 6, inner.width(), 0)
        body.setBottom(inner.bottom())
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        draw_wrapped_text(painter, body, first_lines(str(index.data(TextRole) or ""), 1200), option.font)


class ProblemDelegate(QStyledItemDelegate):
    """Two lines per problem: where (file, line) in bold, the reason below in red."""

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(60, fm.height() * 2 + 12)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        from genaug_desktop.gui.models import ProblemListModel

        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            rect = QRect(option.rect)
            if option.state & QStyle.StateFlag.State_Selected:
                fill = QColor(option.palette.color(QPalette.ColorRole.Highlight))
                fill.setAlpha(45)
                painter.fillRect(rect, fill)
            fm = QFontMetrics(option.font)
            # A small red dot with "!" marks the entry as a problem without shouting.
            dot = QRectF(rect.left() + 6, rect.top() + 6 + (fm.height() - 14) / 2, 14, 14)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(BADGE_FILL)
            painter.drawEllipse(dot)
            bold = QFont(option.font)
            bold.setBold(True)
            painter.setFont(_small_font(bold))
            painter.setPen(BADGE_INK)
            painter.drawText(dot, Qt.AlignmentFlag.AlignCenter, "!")
            left = int(dot.right()) + 6
            width = rect.right() - left - 4
            where = str(index.data(ProblemListModel.WhereRole) or "")
            reason = str(index.data(ProblemListModel.ReasonRole) or "")
            painter.setFont(bold)
            painter.setPen(option.palette.color(QPalette.ColorRole.Text))
            fmb = QFontMetrics(bold)
            painter.drawText(
                QRect(left, rect.top() + 5, width, fm.height()), Qt.AlignmentFlag.AlignLeft,
                fmb.elidedText(where, Qt.TextElideMode.ElideMiddle, width),
            )
            painter.setFont(option.font)
            painter.setPen(BROKEN_TEXT)
            painter.drawText(
                QRect(left, rect.top() + 5 + fm.height(), width, fm.height()), Qt.AlignmentFlag.AlignLeft,
                fm.elidedText(reason, Qt.TextElideMode.ElideRight, width),
            )
            painter.setPen(ROW_SEPARATOR)
            painter.drawLine(rect.left() + 6, rect.bottom(), rect.right() - 6, rect.bottom())
        finally:
            painter.restore()
