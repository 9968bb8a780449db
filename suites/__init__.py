"""The cases: one module per claim family, each exporting ``CASES``."""
