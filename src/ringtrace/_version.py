"""The version and the tool string recorded in cases, audit entries and exports (a leaf: imports nothing)."""

__version__ = "0.1.0"
TOOL = f"ringtrace {__version__}"
