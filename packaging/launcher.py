"""PyInstaller entry point for the genaug-desktop bundle (the same as the ``genaug-desktop`` script)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen app re-executes itself for multiprocessing workers: let those return here.
    multiprocessing.freeze_support()
    from genaug_desktop.app import main

    sys.exit(main())
