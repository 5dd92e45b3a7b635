"""Where a deployment keeps its files, decided without loading the settings (``moyai demo_code``
checks it before the settings would create anything there)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def data_dir(environ: Mapping[str, str], cwd: Path) -> Path:
    """``MOYAI_DATA_DIR``, else ``var/`` in the directory the command runs in."""
    return Path(environ.get("MOYAI_DATA_DIR", cwd / "var"))
