"""The multiprocess metrics folder: summed on every scrape, kept small.

Each process writes its own files (``counter_<pid>.db``...). gunicorn replaces a worker
every ~1000 requests and Celery a pool process every 100 tasks, so files of exited processes
pile up and every scrape would read more of them. Their counters and histograms still count,
so instead of deleting them a scrape first adds them to one archive file per kind and then
removes them. A lock keeps a scrape from reading while the files change hands.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

# Kinds whose values are sums over processes; a gauge belongs to its process and goes with it.
SUMMED_KINDS = ("counter", "histogram")
ARCHIVE = "archive"
LOCK_FILE = ".fold.lock"


@contextmanager
def folder_lock(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """Shared while reading the folder, exclusive while folding files into the archive."""
    with open(folder / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def fold_exited_processes(folder: Path) -> int:
    """Add the counters and histograms of exited processes to the archive; how many went."""
    folded = 0
    with folder_lock(folder, exclusive=True):
        for kind in SUMMED_KINDS:
            for path in sorted(folder.glob(f"{kind}_*.db")):
                pid = path.name[len(kind) + 1 : -len(".db")]
                if not pid.isdigit() or process_alive(int(pid)):
                    continue
                archive = MmapedDict(str(folder / f"{kind}_{ARCHIVE}.db"))
                try:
                    for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(path)):
                        current, _ = archive.read_value(key)
                        archive.write_value(key, current + value, timestamp)
                finally:
                    archive.close()
                path.unlink()
                mark_process_dead(int(pid), path=str(folder))
                folded += 1
    return folded


def folder_metrics(folder: Path) -> bytes:
    """Every process's metrics in the folder, summed, in Prometheus' text format."""
    fold_exited_processes(folder)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    with folder_lock(folder, exclusive=False):
        return generate_latest(registry)
