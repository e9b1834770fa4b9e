"""Bundled data files: sample datasets, icons, presets (loaded through importlib.resources)."""
