"""The multiprocess folder: exited processes still count, folded into one archive per kind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from pinstablr.observability.multiprocess import fold_exited_processes, folder_metrics

# Run with the folder in the environment, as every process of a container is.
WRITER = """
import sys, time
from prometheus_client import Counter, Histogram
Counter("pinstablr_test_things", "Things.", ["kind"]).labels(kind="a").inc(3)
seconds = Histogram("pinstablr_test_seconds", "Time.", buckets=(1, 10))
seconds.observe(0.5)
seconds.observe(5)
sys.stdout.write("written\\n"); sys.stdout.flush()
if sys.argv[1:] == ["stay"]:
    time.sleep(60)
"""


def start_writer(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, *args], text=True, stdout=subprocess.PIPE,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
    )  # fmt: skip


def run_writer(folder: Path) -> None:
    process = start_writer(folder)
    assert process.wait(timeout=30) == 0


def values(text: bytes) -> dict[str, float]:
    found = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def test_exited_processes_are_folded_and_still_counted(tmp_path):
    for _ in range(3):
        run_writer(tmp_path)
    assert len(list(tmp_path.glob("counter_*.db"))) == 3
    assert fold_exited_processes(tmp_path) == 6  # a counter and a histogram file each
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [
        "counter_archive.db", "histogram_archive.db",
    ]  # fmt: skip
    run_writer(tmp_path)  # one more, after the fold
    found = values(folder_metrics(tmp_path))
    assert found["pinstablr_test_things_total{kind=a}"] == 12
    assert found["pinstablr_test_seconds_count{}"] == 8
    assert found["pinstablr_test_seconds_bucket{le=1.0}"] == 4
    assert found["pinstablr_test_seconds_sum{}"] == 22
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [
        "counter_archive.db", "histogram_archive.db",
    ], "the scrape folded the fourth one too"  # fmt: skip


def test_a_running_process_keeps_its_files(tmp_path):
    process = start_writer(tmp_path, "stay")
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "written\n"
        run_writer(tmp_path)
        assert fold_exited_processes(tmp_path) == 2
        assert (tmp_path / f"counter_{process.pid}.db").exists()
        assert values(folder_metrics(tmp_path))["pinstablr_test_things_total{kind=a}"] == 6
    finally:
        process.kill()
        process.wait(timeout=10)
    assert fold_exited_processes(tmp_path) == 2
    assert values(folder_metrics(tmp_path))["pinstablr_test_things_total{kind=a}"] == 6
