"""What a child process of bench/images.py measures: one task of one contender.

The parent writes a plan (JSON) and runs ``images.py --child --engine NAME --task TASK``;
the child writes its result (JSON) where ``--out`` says.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.image_engines import (
    FORMATS,
    Engine,
    LibvipsEngine,
    Output,
    PinstablrEngine,
    make_engine,
    swapped,
    upright_size_of,
)

SSIM_WIDTH = 1280
SSIM_WIDE = 2048  # also scored on sources wider than this (where the first resize happens)
# The phases of imaging.render, in the order they run.
PHASES = (
    "open+header",
    "decode",
    "colour (sRGB)",
    "orient",
    "resize to largest",
    "resize cascade (smaller)",
    "encode webp",
    "encode jpeg",
    "placeholder (ThumbHash)",
    "dominant colour",
)


def memory_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (current) of this process, in MB (1 MB = 2**20 bytes).

    ru_maxrss is not used: on Linux it keeps the parent's high-water mark across exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def save_outputs(entry: dict[str, Any], outs: Output, path: str, data: bytes, folder: Path) -> None:
    """Sizes and bytes of one render; the renditions that SSIM scores go to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    entry["renditions"] = [[w, h, fmt, len(d)] for w, h, fmt, d in outs]
    entry["bytes"] = {fmt: sum(len(d) for _, _, f, d in outs if f == fmt) for fmt in FORMATS}
    target = min(SSIM_WIDTH, max(w for w, _, _, _ in outs))
    wide = upright_size_of(data)[0] > SSIM_WIDE
    for w, _, fmt, d in outs:
        if w == target:
            (folder / f"{Path(path).stem}.{fmt}").write_bytes(d)
        if wide and w == SSIM_WIDE:
            (folder / f"{Path(path).stem}.w{SSIM_WIDE}.{fmt}").write_bytes(d)


def spy_pillow_saves(engine: Engine, path: str, data: bytes) -> dict[str, Any]:
    """The encoder parameters Pillow actually receives (for the Pillow-based engines)."""
    from PIL import Image

    seen: dict[str, Any] = {}
    original = Image.Image.save

    def save(self: Any, fp: Any, format: Any = None, **params: Any) -> Any:
        key = str(format or "?").upper()
        if key not in seen:
            shown = {k: v for k, v in params.items() if k not in ("icc_profile", "exif")}
            shown["icc_profile"] = "kept" if params.get("icc_profile") else "none"
            seen[key] = {k: repr(v) for k, v in shown.items()}
        return original(self, fp, format, **params)

    with swapped(Image.Image, save=save):
        state = engine.prepare(path, data, "spy")
        engine.render(data, state)
    return seen


def _empty_entries(photos: list[str]) -> dict[str, Any]:
    return {Path(p).name: {"ms": [], "cpu_ms": [], "bytes": {}, "renditions": []} for p in photos}


def _timed_render(
    engine: Engine, path: str, data: bytes, tag: str
) -> tuple[Any, Any, float, float]:
    """(result, state, wall ms, CPU ms) of one render, after an untimed prepare."""
    state = engine.prepare(path, data, tag)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = engine.render(data, state)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    return result, state, wall * 1000, cpu * 1000


def _warm(engine: Engine, photos: list[str]) -> None:
    warm = min(photos, key=os.path.getsize)
    data = Path(warm).read_bytes()
    engine.render(data, engine.prepare(warm, data, "warm"))


def task_time(engine: Engine, plan: dict[str, Any]) -> dict[str, Any]:
    """Each photo's whole set, ``reps`` times, after one warm-up render."""
    photos = plan["photos"]
    ssim_dir = Path(plan["ssim_dir"])
    _warm(engine, photos)
    results = _empty_entries(photos)
    for rep in range(plan["reps"]):
        for path in photos:
            data = Path(path).read_bytes()
            result, state, wall, cpu = _timed_render(engine, path, data, f"r{rep}")
            entry = results[Path(path).name]
            entry["ms"].append(wall)
            entry["cpu_ms"].append(cpu)
            if rep == 0 and plan.get("first", True):
                save_outputs(entry, engine.outputs(result, state), path, data, ssim_dir)
            del result, state
    spied: dict[str, Any] = {}
    if not isinstance(engine, LibvipsEngine) and plan.get("first", True):
        biggest = max(photos, key=os.path.getsize)
        spied = spy_pillow_saves(engine, biggest, Path(biggest).read_bytes())
    return {
        "photos": results,
        "settings": engine.settings(),
        "encoder_params": spied,
        "versions": engine.versions(),
    }


_WORKER: Engine | None = None
_WORKER_ERROR: str | None = None


def _pool_init(name: str, config: dict[str, Any], workdir: str, warm: str) -> None:
    global _WORKER, _WORKER_ERROR
    try:
        engine = make_engine(name, config, Path(workdir))
        engine.setup()
        data = Path(warm).read_bytes()
        engine.render(data, engine.prepare(warm, data, f"warm{os.getpid()}"))
        _WORKER = engine
    except Exception as error:  # a failing initializer would make Pool respawn forever
        _WORKER_ERROR = f"{type(error).__name__}: {error}"


def _pool_setup_parent(name: str, config: dict[str, Any], workdir: str) -> None:
    """Django-based contenders need their database created once, before the fork."""
    if name in ("sorl", "easy"):
        make_engine(name, config, Path(workdir)).setup()
        from django.db import connections

        connections.close_all()


def _pool_task(job: tuple[int, str]) -> tuple[float, float]:
    index, path = job
    if _WORKER is None:
        raise RuntimeError(f"worker setup failed: {_WORKER_ERROR}")
    data = Path(path).read_bytes()
    state = _WORKER.prepare(path, data, f"t{index}")
    start, cpu = time.perf_counter(), time.process_time()
    _WORKER.render(data, state)
    return time.perf_counter() - start, time.process_time() - cpu


def _pool_ping(_: int) -> int:
    if _WORKER is None:
        raise RuntimeError(f"worker setup failed: {_WORKER_ERROR}")
    time.sleep(0.05)
    return os.getpid()


def task_throughput(name: str, plan: dict[str, Any]) -> dict[str, Any]:
    """One worker process per core over the photo list, largest first."""
    import multiprocessing

    cores = plan["cores"]
    photos = sorted(plan["photos"], key=os.path.getsize, reverse=True) * plan["throughput_reps"]
    warm = min(plan["photos"], key=os.path.getsize)
    if name in ("sorl", "easy"):
        _pool_setup_parent(name, plan["config"], plan["workdir"])
    context = multiprocessing.get_context("fork")
    with context.Pool(
        cores, initializer=_pool_init, initargs=(name, plan["config"], plan["workdir"], warm)
    ) as pool:
        pids = set(pool.map(_pool_ping, range(cores * 4), chunksize=1))
        start = time.perf_counter()
        busy = pool.map(_pool_task, list(enumerate(photos)), chunksize=1)
        wall = time.perf_counter() - start
    return {
        "photos": len(photos),
        "wall_s": wall,
        "busy_s": sum(b for b, _ in busy),
        "cpu_s": sum(c for _, c in busy),
        "cores": cores,
        "workers_seen": len(pids),
    }


def task_rss(engine: Engine, plan: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS of this fresh process rendering one photo once."""
    path = plan["photo"]
    data = Path(path).read_bytes()
    state = engine.prepare(path, data, "rss")
    gc.collect()
    baseline = memory_mb("VmRSS")
    result = engine.render(data, state)
    peak = memory_mb("VmHWM")
    return {
        "baseline_mb": baseline,
        "peak_mb": peak,
        "renditions": len(engine.outputs(result, state)),
    }


def task_paired(plan: dict[str, Any]) -> dict[str, Any]:
    """Several engines in one process, interleaved photo by photo (order rotated each
    repetition): outside load hits them alike, so small differences show."""
    engines = []
    for name in plan["engines"]:
        engine = make_engine(name, plan["config"], Path(plan["workdir"]))
        engine.setup()
        engines.append((name, engine))
    photos = plan["photos"]
    for _, engine in engines:
        _warm(engine, photos)
    results: dict[str, Any] = {
        name: {
            "photos": _empty_entries(photos),
            "settings": engine.settings(),
            "encoder_params": {},
            "versions": engine.versions(),
        }
        for name, engine in engines
    }
    for rep in range(plan["reps"]):
        order = engines[rep % len(engines) :] + engines[: rep % len(engines)]
        for path in photos:
            data = Path(path).read_bytes()
            for name, engine in order:
                result, state, wall, cpu = _timed_render(engine, path, data, f"r{rep}")
                entry = results[name]["photos"][Path(path).name]
                entry["ms"].append(wall)
                entry["cpu_ms"].append(cpu)
                if rep == 0:
                    folder = Path(plan["ssim_root"]) / name
                    save_outputs(entry, engine.outputs(result, state), path, data, folder)
                del result, state
    return {"engines": results}


def task_micro(plan: dict[str, Any]) -> dict[str, Any]:
    """The same steps in Pillow and in libvips on one large photo: single thread, no
    orientation, minimum CPU ms of 5 runs each. Shows where the engines differ."""
    import logging

    import pyvips
    from PIL import Image

    logging.getLogger("pyvips").setLevel(logging.WARNING)
    pyvips.cache_set_max(0)
    path = plan["photo"]
    data = Path(path).read_bytes()
    webp, jpeg = plan["config"]["webp"], plan["config"]["jpeg"]

    def best(action: Callable[[], object]) -> float:
        times = []
        for _ in range(5):
            start = time.process_time()
            action()
            times.append(time.process_time() - start)
        return min(times) * 1000

    full = Image.open(io.BytesIO(data))
    full.load()
    width, height = full.size
    size = (2048, round(height * 2048 / width))
    small = full.resize(size, Image.Resampling.LANCZOS)
    chain = [(w, round(size[1] * w / size[0])) for w in (1280, 640, 256)]

    def pillow_cascade() -> None:
        current = small
        for target in chain:
            current = current.resize(target, Image.Resampling.LANCZOS)

    def pillow_save(image: Any, fmt: str, options: dict[str, Any]) -> None:
        image.save(io.BytesIO(), fmt, **options)

    vfull = pyvips.Image.new_from_buffer(data, "").copy_memory()
    vsmall = vfull.resize(size[0] / width, vscale=size[1] / height).copy_memory()

    def vips_cascade() -> None:
        current = vsmall
        for w, h in chain:
            current = current.resize(
                w / current.width, vscale=h / current.height, kernel="lanczos3"
            ).copy_memory()

    rows = {
        "decode full size": (
            best(lambda: Image.open(io.BytesIO(data)).load()),
            best(lambda: pyvips.Image.new_from_buffer(data, "").copy_memory()),
        ),
        f"resize {width}x{height} -> {size[0]}x{size[1]}, lanczos": (
            best(lambda: full.resize(size, Image.Resampling.LANCZOS)),
            best(
                lambda: vfull.resize(
                    size[0] / width, vscale=size[1] / height, kernel="lanczos3"
                ).copy_memory()
            ),
        ),
        f"resize {width}x{height} -> {size[0]}x{size[1]}, bicubic": (
            best(lambda: full.resize(size, Image.Resampling.BICUBIC)),
            best(
                lambda: vfull.resize(
                    size[0] / width, vscale=size[1] / height, kernel="cubic"
                ).copy_memory()
            ),
        ),
        "cascade 2048 -> 1280 -> 640 -> 256, lanczos": (best(pillow_cascade), best(vips_cascade)),
        "rotate 90 degrees, full size": (
            best(lambda: full.transpose(Image.Transpose.ROTATE_270)),
            best(lambda: vfull.rot270().copy_memory()),
        ),
        "encode WebP 2048": (
            best(lambda: pillow_save(small, "WEBP", webp)),
            best(lambda: vsmall.webpsave_buffer(Q=webp["quality"], effort=webp["method"])),
        ),
        "encode JPEG 2048": (
            best(lambda: pillow_save(small, "JPEG", jpeg)),
            best(lambda: vsmall.jpegsave_buffer(Q=jpeg["quality"])),
        ),
    }
    return {"photo": Path(path).name, "rows": rows}


class PhaseClock:
    """Splits the time of one render into PHASES, from marks set by the wrapped steps."""

    def __init__(self) -> None:
        self.laps = dict.fromkeys(PHASES, 0.0)
        self.mark = time.perf_counter()

    def lap(self, phase: str) -> None:
        """The time since the last mark belongs to ``phase``."""
        now = time.perf_counter()
        self.laps[phase] += (now - self.mark) * 1000
        self.mark = now

    def step(self, function: Callable[..., Any], before: str, during: str) -> Callable[..., Any]:
        """``function`` timed as ``during``; the time since the last mark goes to ``before``."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            self.lap(before)
            try:
                return function(*args, **kwargs)
            finally:
                self.lap(during)

        return timed


def _phases_of_one_render(imaging: Any, data: bytes) -> dict[str, float]:
    """One imaging.render with its module-level steps wrapped by a PhaseClock.

    In ``decode_upright``: open_image is "open+header", everything up to the colour
    conversion (EXIF read, draft, the decode) "decode", ``_to_srgb_rgb`` "colour", the rest
    (the EXIF transpose) "orient". Then the header read for the full size, the cascade (its
    first resize, when the largest width needs one, apart), the encodes, the placeholder and
    the dominant colour.
    """
    from PIL import Image

    clock = PhaseClock()
    resize = Image.Image.resize
    cascade = imaging.resize_cascade

    def timed_cascade(base: Any, widths: list[int]) -> Any:
        clock.lap("open+header")

        def timed_resize(image: Any, size: Any, *args: Any, **kwargs: Any) -> Any:
            clock.lap("resize cascade (smaller)")
            try:
                return resize(image, size, *args, **kwargs)
            finally:
                largest = size[0] == widths[0]
                clock.lap("resize to largest" if largest else "resize cascade (smaller)")

        with swapped(Image.Image, resize=timed_resize):
            sized = cascade(base, widths)
        clock.lap("resize cascade (smaller)")
        return sized

    encode = imaging.encode

    def timed_encode(image: Any, fmt: str) -> bytes:
        clock.lap(f"encode {fmt}")
        try:
            return encode(image, fmt)
        finally:
            clock.lap(f"encode {fmt}")

    steps = {
        "decode_upright": clock.step(imaging.decode_upright, "open+header", "orient"),
        "open_image": clock.step(imaging.open_image, "open+header", "open+header"),
        "_to_srgb_rgb": clock.step(imaging._to_srgb_rgb, "decode", "colour (sRGB)"),
        "resize_cascade": timed_cascade,
        "encode": timed_encode,
        "placeholder_of": clock.step(
            imaging.placeholder_of, "placeholder (ThumbHash)", "placeholder (ThumbHash)"
        ),
        "dominant_color_of": clock.step(
            imaging.dominant_color_of, "dominant colour", "dominant colour"
        ),
    }
    with swapped(imaging, **steps):
        clock.mark = time.perf_counter()
        imaging.render(data, formats=FORMATS)
    return clock.laps


def task_phases(engine: Engine, plan: dict[str, Any]) -> dict[str, Any]:
    """Where Pinstablr's render spends its time, phase by phase (render itself, its steps
    timed where it calls them)."""
    assert isinstance(engine, PinstablrEngine)
    totals: dict[str, list[float]] = {}
    per_photo: dict[str, dict[str, float]] = {}
    for path in plan["photos"]:
        data = Path(path).read_bytes()
        runs = [_phases_of_one_render(engine.imaging, data) for _ in range(plan["reps"])]
        median = {k: statistics.median(r[k] for r in runs) for k in PHASES}
        per_photo[Path(path).name] = median
        for k, v in median.items():
            totals.setdefault(k, []).append(v)
    return {"per_photo": per_photo, "totals": {k: sum(v) for k, v in totals.items()}}


def child_main(args: argparse.Namespace) -> None:
    """Run one task as the plan says and write its result as JSON."""
    plan = json.loads(Path(args.plan).read_text())
    if args.task == "throughput":
        result = task_throughput(args.engine, plan)
    elif args.task == "paired":
        result = task_paired(plan)
    elif args.task == "micro":
        result = task_micro(plan)
    else:
        engine = make_engine(args.engine, plan["config"], Path(plan["workdir"]))
        engine.setup()
        if args.task == "time":
            result = task_time(engine, plan)
        elif args.task == "rss":
            result = task_rss(engine, plan)
        elif args.task == "phases":
            result = task_phases(engine, plan)
        else:
            raise SystemExit(f"unknown task {args.task!r}")
    Path(args.out).write_text(json.dumps(result))
