"""``python -m genaug_desktop`` opens the desktop app (``python -m genaug_desktop.cli`` is the CLI)."""

# The guard matters: worker processes (forkserver) import the main module as __mp_main__,
# and must not open a second window.
if __name__ == "__main__":
    from genaug_desktop.app import main

    raise SystemExit(main())
