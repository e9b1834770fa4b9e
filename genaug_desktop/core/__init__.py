"""The Qt-free core: datasets, project store, jobs. Never imports PySide6, torch or nlpaug at import."""
