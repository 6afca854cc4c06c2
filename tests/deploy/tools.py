"""Shared by the deploy tests: where the repository is and where a command-line tool is."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def tool(name: str, *extra_dirs: str) -> str | None:
    """``name`` from this virtualenv's bin (pip-installed tools), PATH, or ``extra_dirs``."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None
