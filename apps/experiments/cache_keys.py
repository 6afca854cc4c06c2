"""The hot cache's version names for experiments (see ``apps.common.hotcache``)."""

from __future__ import annotations

# The live experiments' snapshot every process assigns from: any experiment or variant saved.
SNAPSHOT = "experiments"
