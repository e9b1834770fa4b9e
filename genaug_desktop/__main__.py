"""``python -m genaug_desktop`` opens the desktop app (``python -m genaug_desktop.cli`` is the CLI)."""

from genaug_desktop.app import main

raise SystemExit(main())
