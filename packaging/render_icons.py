import os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from pathlib import Path
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
app = QGuiApplication(sys.argv)
d = Path(sys.argv[1])
r = QSvgRenderer(str(d / "genaug.svg"))
assert r.isValid()
for s in (16, 32, 48, 64, 128, 256):
    img = QImage(s, s, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing); p.setRenderHint(QPainter.SmoothPixmapTransform)
    r.render(p)
    p.end()
    assert img.convertToFormat(QImage.Format_ARGB32).save(str(d / f"genaug-{s}.png"), "PNG")
print("ok")
