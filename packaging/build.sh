#!/usr/bin/env bash
# Build the one-folder Linux bundle: dist/genaug-desktop/genaug-desktop.
# Usage: packaging/build.sh            (uses the python on PATH, or $PYTHON)
#        GENAUG_BUNDLE_TORCH=1 packaging/build.sh   (include torch and nlpaug: ~1 GB more)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
start=$(date +%s)
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  "$PYTHON" -m pip install -q "pyinstaller>=6.5"
fi
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/genaug-desktop.spec
bundle=dist/genaug-desktop
echo "build: $bundle ($(du -sh "$bundle" | cut -f1)) in $(( $(date +%s) - start )) s"
# Smoke check: start offscreen, save a screenshot of the sample dataset, exit 0.
QT_QPA_PLATFORM=offscreen "$bundle/genaug-desktop" --demo --screenshot build/bundle-smoke.png
echo "build: smoke screenshot build/bundle-smoke.png OK"
