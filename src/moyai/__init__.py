"""moyai (催合): one shared deployment for the core business of many municipalities."""

__version__ = "0.1.0"
