"""Rendition benchmark: Pinstablr's image engine against libvips, sorl-thumbnail and
easy-thumbnails, and against the decode+encode floor.

Every contender makes the same rendition set of each photo: widths 256, 640, 1280 and 2048
(never upscaled), each in WebP and JPEG. Each contender runs in its own subprocess, so its
imports, memory and libraries do not leak into the others:

    .venv/bin/python bench/images.py              # full run (3 repetitions, every photo)
    .venv/bin/python bench/images.py --quick      # 1 repetition on 5 photos
    .venv/bin/python bench/images.py --variants   # also prototype changes to the engine

See bench/README.md for what is measured and how to read the output.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_PHOTOS = REPO.parent / "shared" / "data" / "photos"
# Pinstablr's upload cap is 50,000,000 pixels: 8160x6120 (4:3, 49.9 MP) is the largest 4:3
# size that is still accepted (8200x6100 would be rejected as too large).
BIG_SIZE = (8160, 6120)
SSIM_WIDTH = 1280
SSIM_WIDE = 2048  # also scored on sources wider than this (where the first resize happens)
FORMATS = ("webp", "jpeg")
ENGINES = ("pinstablr", "libvips", "libvips-1t", "sorl", "easy", "floor")
VARIANTS = (
    "pinstablr-late",
    "pinstablr-hash64",
    "pinstablr-webp3",
    "pinstablr-bicubic",
    "pinstablr-draft95",
    "pinstablr-late-hash64-draft95",
    "pinstablr-late-hash64-draft95-bicubic",
)
FLOOR = "floor"


# --------------------------------------------------------------------------------------
# Shared helpers (parent and children)
# --------------------------------------------------------------------------------------


def widths_for(upright_width: int, widths: list[int]) -> list[int]:
    """Same rule as imaging.rendition_widths: largest first, never wider than the source."""
    return sorted({min(width, upright_width) for width in widths}, reverse=True)


def upright_size_of(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:
            orientation = 1
        width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


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


def image_dims(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


# --------------------------------------------------------------------------------------
# Contenders (each instantiated only inside its own child process)
# --------------------------------------------------------------------------------------

Output = list[tuple[int, int, str, bytes]]  # (width, height, "webp"|"jpeg", data)


class Engine:
    """``prepare`` (untimed) then ``render`` (timed) then ``outputs`` (untimed)."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.widths: list[int] = config["widths"]

    def setup(self) -> None:
        pass

    def prepare(self, path: str, data: bytes, tag: str) -> Any:
        return None

    def render(self, data: bytes, state: Any) -> Any:
        raise NotImplementedError

    def outputs(self, result: Any, state: Any) -> Output:
        return result

    def settings(self) -> dict[str, Any]:
        return {}

    def versions(self) -> dict[str, str]:
        return {}


def _django_project() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinstablr.settings.test")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


class PinstablrEngine(Engine):
    """apps.photos.imaging.render, JPEG and WebP (the worker's first pass)."""

    def setup(self) -> None:
        _django_project()
        from apps.photos import imaging

        self.imaging = imaging

    def render(self, data: bytes, state: Any) -> Any:
        return self.imaging.render(data, formats=FORMATS)

    def outputs(self, result: Any, state: Any) -> Output:
        return [(e.width, e.height, e.format, e.data) for e in result.renditions]

    def settings(self) -> dict[str, Any]:
        return {
            "webp": dict(self.imaging.WEBP_OPTIONS),
            "jpeg": dict(self.imaging.JPEG_OPTIONS),
            "resample": "LANCZOS cascade, reducing_gap=3.0",
            "decode": "JPEG draft (DCT scaling) to the 2048 target",
            "extras": "ThumbHash placeholder + dominant colour included",
        }


class LibvipsEngine(Engine):
    """pyvips: thumbnail (shrink-on-load, autorotate) to the largest width, then a cascade."""

    def setup(self) -> None:
        import logging

        import pyvips

        logging.getLogger("pyvips").setLevel(logging.WARNING)
        pyvips.cache_set_max(0)  # a worker renders each photo once: no operation cache
        self.pyvips = pyvips

    def render(self, data: bytes, state: Any) -> Any:
        pyvips = self.pyvips
        webp = self.config["webp"]
        jpeg = self.config["jpeg"]
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        # Like Pinstablr: convert to sRGB when the file carries a profile, else keep pixels.
        profile = {"output_profile": "srgb"} if header.get_typeof("icc-profile-data") else {}
        base = pyvips.Image.thumbnail_buffer(
            data, max(self.widths), height=10_000_000, size="down", **profile
        ).copy_memory()
        out: Output = []
        current = base
        for width in widths_for(base.width, self.widths):
            height = max(1, round(base.height * width / base.width))
            if (current.width, current.height) != (width, height):
                current = current.resize(
                    width / current.width, vscale=height / current.height, kernel="lanczos3"
                ).copy_memory()
            out.append(
                (
                    width,
                    height,
                    "webp",
                    current.webpsave_buffer(Q=webp["quality"], effort=webp["method"], keep="none"),
                )
            )
            out.append(
                (
                    width,
                    height,
                    "jpeg",
                    current.jpegsave_buffer(
                        Q=jpeg["quality"],
                        optimize_coding=bool(jpeg.get("optimize")),
                        interlace=bool(jpeg.get("progressive")),
                        keep="none",
                    ),
                )
            )
        return out

    def settings(self) -> dict[str, Any]:
        return {
            "webp": {"Q": self.config["webp"]["quality"], "effort": self.config["webp"]["method"]},
            "jpeg": {"Q": self.config["jpeg"]["quality"], "optimize_coding": False},
            "resample": "thumbnail (shrink-on-load) + lanczos3 cascade",
            "threads": os.environ.get("VIPS_CONCURRENCY", f"default ({os.cpu_count()})"),
        }

    def versions(self) -> dict[str, str]:
        pyvips = self.pyvips
        return {
            "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
            "pyvips": metadata.version("pyvips"),
        }


def _django_minimal(workdir: Path, app: str) -> None:
    """A bare Django project for sorl-thumbnail / easy-thumbnails, with all their defaults."""
    from django.conf import settings

    if settings.configured:  # a pool worker forked from a process that set it up already
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",  # noqa: S106 - a throwaway project in a temp dir
        INSTALLED_APPS=["django.contrib.contenttypes", app],
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(workdir / "db.sqlite3")}
        },
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        MEDIA_ROOT=str(workdir / "media"),
        MEDIA_URL="/media/",
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


class SorlEngine(Engine):
    """sorl.thumbnail.get_thumbnail: one call per width and format, library defaults."""

    def setup(self) -> None:
        _django_minimal(self.workdir, "sorl.thumbnail")
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage
        from sorl.thumbnail import get_thumbnail

        self.get_thumbnail = get_thumbnail
        self.storage = default_storage
        self.content_file = ContentFile

    def prepare(self, path: str, data: bytes, tag: str) -> Any:
        name = self.storage.save(f"src/{tag}/{Path(path).name}", self.content_file(data))
        return name, widths_for(upright_size_of(data)[0], self.widths)

    def render(self, data: bytes, state: Any) -> Any:
        name, widths = state
        return [
            (fmt, self.get_thumbnail(name, str(width), format=fmt.upper(), upscale=False))
            for width in widths
            for fmt in FORMATS
        ]

    def outputs(self, result: Any, state: Any) -> Output:
        out: Output = []
        for fmt, thumb in result:
            with self.storage.open(thumb.name, "rb") as handle:
                data = handle.read()
            out.append((*image_dims(data), fmt, data))
        return out

    def settings(self) -> dict[str, Any]:
        from sorl.thumbnail.conf import settings

        return {
            "quality": settings.THUMBNAIL_QUALITY,
            "progressive_jpeg": settings.THUMBNAIL_PROGRESSIVE,
            "engine": settings.THUMBNAIL_ENGINE,
            "kvstore": settings.THUMBNAIL_KVSTORE,
            "set here": "format=WEBP|JPEG, geometry=<width>, upscale=False",
        }

    def versions(self) -> dict[str, str]:
        return {"sorl-thumbnail": metadata.version("sorl-thumbnail")}


class EasyEngine(Engine):
    """easy_thumbnails get_thumbnailer(...).get_thumbnail: per width and format, defaults."""

    def setup(self) -> None:
        _django_minimal(self.workdir, "easy_thumbnails")
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage
        from easy_thumbnails.files import get_thumbnailer

        self.get_thumbnailer = get_thumbnailer
        self.storage = default_storage
        self.content_file = ContentFile

    def prepare(self, path: str, data: bytes, tag: str) -> Any:
        name = self.storage.save(f"src/{tag}/{Path(path).name}", self.content_file(data))
        return name, widths_for(upright_size_of(data)[0], self.widths)

    def render(self, data: bytes, state: Any) -> Any:
        name, widths = state
        result = []
        for fmt, extension in (("webp", "webp"), ("jpeg", "jpg")):
            thumbnailer = self.get_thumbnailer(name)
            thumbnailer.thumbnail_extension = extension
            result += [(fmt, thumbnailer.get_thumbnail({"size": (width, 0)})) for width in widths]
        return result

    def outputs(self, result: Any, state: Any) -> Output:
        out: Output = []
        for fmt, thumb in result:
            with self.storage.open(thumb.name, "rb") as handle:
                data = handle.read()
            out.append((*image_dims(data), fmt, data))
        return out

    def settings(self) -> dict[str, Any]:
        from easy_thumbnails.conf import settings

        return {
            "quality": settings.THUMBNAIL_QUALITY,
            "progressive_jpeg_from_px": settings.THUMBNAIL_PROGRESSIVE,
            "subsampling": 2,
            "set here": "thumbnail_extension=webp|jpg, size=(<width>, 0)",
        }

    def versions(self) -> dict[str, str]:
        return {"easy-thumbnails": metadata.version("easy-thumbnails")}


class FloorEngine(Engine):
    """The irreducible part: JPEG decode at draft scale, then the 8 encodes alone.

    The renditions are made beforehand (untimed) with the same pipeline as Pinstablr.
    """

    def setup(self) -> None:
        from PIL import Image

        self.Image = Image

    def _draft_target(self, image: Any) -> tuple[int, int] | None:
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1)
        upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
        top = max(self.widths)
        if image.format != "JPEG" or upright[0] <= top:
            return None
        wanted = (top, max(1, round(upright[1] * top / upright[0])))
        return (wanted[1], wanted[0]) if orientation in (5, 6, 7, 8) else wanted

    def prepare(self, path: str, data: bytes, tag: str) -> Any:
        from PIL import ImageOps

        Image = self.Image
        image = Image.open(io.BytesIO(data))
        target = self._draft_target(image)
        if target:
            image.draft("RGB", target)
        base = ImageOps.exif_transpose(image).convert("RGB")
        images, current = [], base
        for width in widths_for(base.width, self.widths):
            height = max(1, round(base.height * width / base.width))
            if current.size != (width, height):
                current = current.resize((width, height), Image.Resampling.LANCZOS)
            images.append(current)
        return images

    def render(self, data: bytes, state: Any) -> Any:
        image = self.Image.open(io.BytesIO(data))
        target = self._draft_target(image)
        if target:
            image.draft("RGB", target)
        image.load()
        out: Output = []
        for sized in state:
            for fmt in FORMATS:
                buffer = io.BytesIO()
                if fmt == "webp":
                    sized.save(buffer, "WEBP", **self.config["webp"])
                else:
                    sized.save(buffer, "JPEG", **self.config["jpeg"])
                out.append((sized.width, sized.height, fmt, buffer.getvalue()))
        return out

    def settings(self) -> dict[str, Any]:
        return {"webp": self.config["webp"], "jpeg": self.config["jpeg"]}


class PinstablrVariant(PinstablrEngine):
    """Prototype changes to imaging.render, measured in the same run (bench only).

    The name lists the changes, e.g. ``pinstablr-late-hash64``:

    late:    EXIF transpose and ICC conversion applied to the 2048 image, not the full decode
             (the first resize works in the stored orientation, then transposes).
    hash64:  ThumbHash computed from a 64 px image instead of 100 px (same hash to within a
             character on these photos, about a third of the pure-Python work).
    bicubic: BICUBIC instead of LANCZOS in the cascade.
    webp3:   WebP method 3 instead of 4.
    draft95: JPEG draft may pick a DCT scale that gives at least 95% of the 2048 target
             (e.g. 4032 -> 2016 at 1/2, 8160 -> 2040 at 1/4); the small rest is resized up,
             so every rendition keeps its exact size.
    """

    def __init__(self, config: dict[str, Any], workdir: Path, variant: str) -> None:
        super().__init__(config, workdir)
        self.variant = variant
        self.flags = set(variant.split("-"))
        unknown = self.flags - {"late", "hash64", "bicubic", "webp3", "draft95"}
        if unknown:
            raise SystemExit(f"unknown variant flags {sorted(unknown)}")

    def setup(self) -> None:
        super().setup()
        from PIL import Image

        self.Image = Image
        self.resample = (
            Image.Resampling.BICUBIC if "bicubic" in self.flags else Image.Resampling.LANCZOS
        )
        self.webp = dict(self.imaging.WEBP_OPTIONS)
        if "webp3" in self.flags:
            self.webp["method"] = 3

    def render(self, data: bytes, state: Any) -> Any:
        imaging = self.imaging
        image = imaging.open_image(data)
        orientation = imaging.orientation_of(image)
        full_width, full_height = imaging.upright_size(image.size, orientation)
        top = max(imaging.RENDITION_WIDTHS)
        if image.format in ("JPEG", "MPO") and full_width > top:
            wanted = (top, max(1, round(full_height * top / full_width)))
            if "draft95" in self.flags:
                wanted = (math.ceil(wanted[0] * 0.95), math.ceil(wanted[1] * 0.95))
            image.draft("RGB", imaging.upright_size(wanted, orientation))
        image.load()
        targets = [
            (w, max(1, round(full_height * w / full_width)))
            for w in imaging.rendition_widths(full_width)
        ]
        if "late" in self.flags and image.mode == "RGB":
            # Resize in the stored orientation, then colour-convert and transpose the small image.
            stored = imaging.upright_size(targets[0], orientation)
            base = image
            if image.size != stored:
                base = image.resize(stored, self.resample, reducing_gap=3.0)
                base.info = dict(image.info)
            del image  # the full decode is not needed any more
            base = imaging._to_srgb_rgb(base)
            if orientation in imaging.TRANSPOSE:
                base = base.transpose(imaging.TRANSPOSE[orientation])
        else:
            base = imaging._to_srgb_rgb(image)
            if orientation in imaging.TRANSPOSE:
                base = base.transpose(imaging.TRANSPOSE[orientation])
            del image  # as in imaging.decode_upright: only the upright copy goes on
            if base.size != targets[0]:
                base = base.resize(targets[0], self.resample, reducing_gap=3.0)
        base.info = {}
        sized, current = [base], base
        for target in targets[1:]:
            current = current.resize(target, self.resample, reducing_gap=3.0)
            sized.append(current)
        renditions = []
        for im in sized:
            for fmt in FORMATS:
                buffer = io.BytesIO()
                im.info = {}
                if fmt == "webp":
                    im.save(buffer, "WEBP", **self.webp)
                else:
                    im.save(buffer, "JPEG", **imaging.JPEG_OPTIONS)
                renditions.append((im.width, im.height, fmt, buffer.getvalue()))
        placeholder = self.placeholder_of(sized[-1])
        colour = imaging.dominant_color_of(sized[-1])
        return renditions, placeholder, colour, (full_width, full_height)

    def placeholder_of(self, image: Any) -> str:
        if "hash64" not in self.flags:
            return self.imaging.placeholder_of(image)
        import base64

        import thumbhash

        small = image.copy()
        small.thumbnail((64, 64))
        rgba = small.convert("RGBA")
        hashed = thumbhash.rgba_to_thumb_hash(rgba.width, rgba.height, list(rgba.tobytes()))
        return base64.b64encode(bytes(hashed)).decode("ascii")

    def outputs(self, result: Any, state: Any) -> Output:
        return result[0]

    def settings(self) -> dict[str, Any]:
        return {"variant": self.variant, "webp": self.webp, "resample": str(self.resample)}


def make_engine(name: str, config: dict[str, Any], workdir: Path) -> Engine:
    if name == "pinstablr":
        return PinstablrEngine(config, workdir)
    if name.startswith("pinstablr-"):
        return PinstablrVariant(config, workdir, name.removeprefix("pinstablr-"))
    if name in ("libvips", "libvips-1t"):
        return LibvipsEngine(config, workdir)
    if name == "sorl":
        return SorlEngine(config, workdir)
    if name == "easy":
        return EasyEngine(config, workdir)
    if name == FLOOR:
        return FloorEngine(config, workdir)
    raise SystemExit(f"unknown engine {name!r}")


# --------------------------------------------------------------------------------------
# Child tasks
# --------------------------------------------------------------------------------------


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

    Image.Image.save = save  # type: ignore[method-assign]
    try:
        state = engine.prepare(path, data, "spy")
        engine.render(data, state)
    finally:
        Image.Image.save = original  # type: ignore[method-assign]
    return seen


def task_time(engine: Engine, plan: dict[str, Any]) -> dict[str, Any]:
    photos = plan["photos"]
    ssim_dir = Path(plan["ssim_dir"])
    warm = min(photos, key=os.path.getsize)
    warm_data = Path(warm).read_bytes()
    engine.render(warm_data, engine.prepare(warm, warm_data, "warm"))
    results: dict[str, Any] = {
        Path(p).name: {"ms": [], "cpu_ms": [], "bytes": {}, "renditions": []} for p in photos
    }
    for rep in range(plan["reps"]):
        for path in photos:
            data = Path(path).read_bytes()
            state = engine.prepare(path, data, f"r{rep}")
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            result = engine.render(data, state)
            cpu = time.process_time() - cpu
            wall = time.perf_counter() - wall
            entry = results[Path(path).name]
            entry["ms"].append(wall * 1000)
            entry["cpu_ms"].append(cpu * 1000)
            if rep == 0 and plan.get("first", True):
                outs = engine.outputs(result, state)
                save_outputs(entry, outs, path, data, ssim_dir)
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
    warm = min(photos, key=os.path.getsize)
    warm_data = Path(warm).read_bytes()
    for _, engine in engines:
        engine.render(warm_data, engine.prepare(warm, warm_data, "warm"))
    results: dict[str, Any] = {
        name: {
            "photos": {
                Path(p).name: {"ms": [], "cpu_ms": [], "bytes": {}, "renditions": []}
                for p in photos
            },
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
                state = engine.prepare(path, data, f"r{rep}")
                gc.collect()
                wall, cpu = time.perf_counter(), time.process_time()
                result = engine.render(data, state)
                cpu = time.process_time() - cpu
                wall = time.perf_counter() - wall
                entry = results[name]["photos"][Path(path).name]
                entry["ms"].append(wall * 1000)
                entry["cpu_ms"].append(cpu * 1000)
                if rep == 0:
                    outs = engine.outputs(result, state)
                    save_outputs(entry, outs, path, data, Path(plan["ssim_root"]) / name)
                del result, state
    return {"engines": results}


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

    def best(action: Any) -> float:
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


def child_main(args: argparse.Namespace) -> None:
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


def task_phases(engine: Engine, plan: dict[str, Any]) -> dict[str, Any]:
    """Where Pinstablr's render spends its time, phase by phase (same steps as render)."""
    assert isinstance(engine, PinstablrEngine)
    imaging = engine.imaging
    totals: dict[str, list[float]] = {}
    per_photo: dict[str, dict[str, float]] = {}
    for path in plan["photos"]:
        data = Path(path).read_bytes()
        runs: list[dict[str, float]] = []
        for _ in range(plan["reps"]):
            t: dict[str, float] = {}
            clock = time.perf_counter()

            def lap(label: str, t: dict[str, float] = t) -> None:
                nonlocal clock
                now = time.perf_counter()
                t[label] = t.get(label, 0.0) + (now - clock) * 1000
                clock = now

            image = imaging.open_image(data)
            orientation = imaging.orientation_of(image)
            top = max(imaging.RENDITION_WIDTHS)
            if image.format in ("JPEG", "MPO"):
                width, height = imaging.upright_size(image.size, orientation)
                if width > top:
                    wanted = (top, max(1, round(height * top / width)))
                    image.draft("RGB", imaging.upright_size(wanted, orientation))
            lap("open+header")
            image.load()
            lap("decode")
            upright = imaging._to_srgb_rgb(image)
            lap("colour (sRGB)")
            if orientation in imaging.TRANSPOSE:
                upright = upright.transpose(imaging.TRANSPOSE[orientation])
            upright.info = {}
            lap("orient")
            with imaging.open_image(data) as header:
                imaging.upright_size(header.size, imaging.orientation_of(header))
            lap("open+header")
            widths = imaging.rendition_widths(upright.width)
            sized = imaging.resize_cascade(upright, widths[:1])
            lap("resize to largest")
            sized = imaging.resize_cascade(upright if len(widths) == 1 else sized[0], widths)
            lap("resize cascade (smaller)")
            for im in sized:
                imaging.encode(im, "webp")
                lap("encode webp")
                imaging.encode(im, "jpeg")
                lap("encode jpeg")
            imaging.placeholder_of(sized[-1])
            lap("placeholder (ThumbHash)")
            imaging.dominant_color_of(sized[-1])
            lap("dominant colour")
            runs.append(t)
            del image, upright, sized
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        per_photo[Path(path).name] = median
        for k, v in median.items():
            totals.setdefault(k, []).append(v)
    return {"per_photo": per_photo, "totals": {k: sum(v) for k, v in totals.items()}}


# --------------------------------------------------------------------------------------
# Parent: photo sets, orchestration, SSIM, report
# --------------------------------------------------------------------------------------


def environment() -> list[str]:
    from PIL import __version__ as pillow_version
    from PIL import features

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import pyvips

        vips = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except Exception as error:
        vips = f"unavailable ({error})"

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return [
        f"date        {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"cpu         {cpu}",
        f"cores       {len(os.sched_getaffinity(0))} usable ({os.cpu_count()} online)",
        f"python      {platform.python_version()} ({platform.machine()}, {platform.system()})",
        f"pillow      {pillow_version} (libjpeg-turbo {features.version('jpg')}, "
        f"libwebp {features.version('webp')})",
        f"libvips     {vips} (pyvips {version('pyvips')}, pyvips-binary "
        f"{version('pyvips-binary')})",
        f"sorl        sorl-thumbnail {version('sorl-thumbnail')}",
        f"easy        easy-thumbnails {version('easy-thumbnails')}",
        f"django      {version('Django')}, numpy {version('numpy')}",
    ]


def synthetic_photos(folder: Path) -> list[Path]:
    """A few camera-like JPEGs (texture, gradients, EXIF orientation), made with Pillow."""
    from PIL import Image, ImageDraw, ImageFilter

    folder.mkdir(parents=True, exist_ok=True)
    specs = [
        ("synthetic_12mp_o6.jpg", (4000, 3000), 6),
        ("synthetic_12mp_o1.jpg", (4032, 3024), 1),
        ("synthetic_3mp_o1.jpg", (2048, 1536), 1),
        ("synthetic_3mp_o8.jpg", (2000, 1500), 8),
        ("synthetic_2mp_o3.jpg", (1600, 1200), 3),
    ]
    paths = []
    for index, (name, size, orientation) in enumerate(specs):
        small = (size[0] // 8, size[1] // 8)
        noise = Image.effect_noise(small, 60).convert("RGB")
        gradient = Image.linear_gradient("L").resize(small).convert("RGB")
        image = Image.blend(noise, gradient, 0.6).resize(size, Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(image)
        for k in range(12):
            x, y = (k * 331 + index * 97) % size[0], (k * 211 + index * 53) % size[1]
            draw.ellipse(
                (x, y, x + size[0] // 6, y + size[1] // 6),
                fill=(40 + 17 * k % 200, 90 + 31 * k % 160, 200 - 13 * k % 180),
            )
        fine = Image.effect_noise(size, 12).convert("RGB")
        image = Image.blend(image, fine, 0.15).filter(ImageFilter.SMOOTH)
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = folder / name
        image.save(path, "JPEG", quality=90, exif=exif)
        paths.append(path)
    return paths


def make_big(source: Path, folder: Path) -> Path:
    """Upscale a real photo to 8160x6120 (49.9 MP, just under the 50 MP cap), JPEG q90."""
    from PIL import Image, ImageOps

    with Image.open(source) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    size = BIG_SIZE if upright.width >= upright.height else (BIG_SIZE[1], BIG_SIZE[0])
    big = upright.resize(size, Image.Resampling.LANCZOS)
    path = folder / f"big50mp_{source.stem}.jpg"
    big.save(path, "JPEG", quality=90)
    return path


def pick_photos(all_photos: list[Path], quick: bool) -> list[Path]:
    if not quick or len(all_photos) <= 5:
        return all_photos
    by_pixels = sorted(all_photos, key=lambda p: -_pixels(p))
    chosen = by_pixels[:2]
    rest = by_pixels[2:]
    step = max(1, len(rest) // 3)
    chosen += rest[::step][:3]
    return sorted(chosen)


def _pixels(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as image:
        return image.size[0] * image.size[1]


def ssim_luma(reference: Any, candidate: Any) -> float:
    """Mean SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, on 8-bit luma.

    Computed over the 'valid' area (no padding); images are cropped to their common size
    (engines may round a height differently by one pixel). Rows are filtered in chunks that
    stay in cache, in centred float32 (the variances stay accurate at this range).
    """
    import numpy as np

    height = min(reference.shape[0], candidate.shape[0])
    width = min(reference.shape[1], candidate.shape[1])
    x = reference[:height, :width].astype(np.float32) - 128
    y = candidate[:height, :width].astype(np.float32) - 128
    radius = 5
    taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2 * 1.5**2)).astype(np.float32)
    taps /= taps.sum()
    inner_w, inner_h = width - 2 * radius, height - 2 * radius
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    total = 0.0
    for top in range(0, inner_h, 64):
        count = min(64, inner_h - top)
        xs, ys = x[top : top + count + 2 * radius], y[top : top + count + 2 * radius]
        stack = np.stack([xs, ys, xs * xs, ys * ys, xs * ys])
        rows = np.zeros((5, stack.shape[1], inner_w), np.float32)
        scratch = np.empty_like(rows)
        for k, tap in enumerate(taps):
            np.multiply(stack[:, :, k : k + inner_w], tap, out=scratch)
            rows += scratch
        blurred = np.zeros((5, count, inner_w), np.float32)
        scratch = np.empty_like(blurred)
        for k, tap in enumerate(taps):
            np.multiply(rows[:, k : k + count, :], tap, out=scratch)
            blurred += scratch
        mx, my, xx, yy, xy = blurred
        sxx, syy, sxy = xx - mx * mx, yy - my * my, xy - mx * my
        mx, my = mx + 128, my + 128  # back to the 0..255 range the constants assume
        ssim = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        total += float(ssim.sum(dtype=np.float64))
    return total / (inner_h * inner_w)


def reference_luma(path: Path, target_width: int) -> Any:
    """Full-resolution decode (no draft), sRGB, upright, one LANCZOS resize, luma."""
    import numpy as np
    from PIL import Image, ImageCms

    transpose = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
    with Image.open(path) as image:
        image.load()
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:
            orientation = 1
        icc = image.info.get("icc_profile")
        rgb = image.convert("RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            rgb = ImageCms.profileToProfile(rgb, source, srgb, outputMode="RGB") or rgb
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    if orientation in transpose:
        rgb = rgb.transpose(transpose[orientation])
    width = min(target_width, rgb.width)
    height = max(1, round(rgb.height * width / rgb.width))
    if (width, height) != rgb.size:
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(rgb.convert("L"))


def candidate_luma(path: Path) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


@dataclass
class Run:
    name: str
    time: dict[str, Any] | None = None
    throughput: dict[str, Any] | None = None
    rss: dict[str, dict[str, Any]] | None = None
    ssim: dict[str, dict[str, float]] | None = None
    error: str | None = None


def run_child(
    engine: str, task: str, plan: dict[str, Any], workroot: Path, label: str
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"{engine}-{task}-", dir=workroot))
    plan = {**plan, "workdir": str(workdir)}
    plan_path = workdir / "plan.json"
    out_path = workdir / "out.json"
    plan_path.write_text(json.dumps(plan))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["DJANGO_SETTINGS_MODULE"] = "pinstablr.settings.test"
    if engine in ("libvips-1t", "paired", "micro"):
        env["VIPS_CONCURRENCY"] = "1"
    else:
        env.pop("VIPS_CONCURRENCY", None)
    if engine in ("sorl", "easy"):
        env.pop("DJANGO_SETTINGS_MODULE")  # they configure their own minimal project
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--engine",
        engine,
        "--task",
        task,
        "--plan",
        str(plan_path),
        "--out",
        str(out_path),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise RuntimeError(f"{engine} {task} failed (exit {done.returncode}):\n{tail}")
    print(f"  {engine:<24} {label:<18} {elapsed:6.1f} s", file=sys.stderr, flush=True)
    return json.loads(out_path.read_text())


def median_of_photos(time_result: dict[str, Any], names: list[str] | None = None) -> float:
    photos = time_result["photos"]
    keys = names if names is not None else list(photos)
    return statistics.median(statistics.median(photos[k]["ms"]) for k in keys)


def total_of_photos(time_result: dict[str, Any], key: str = "ms") -> float:
    return sum(statistics.median(v[key]) for v in time_result["photos"].values())


def ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or base == 0:
        return "-"
    return f"{value / base:.2f}x"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    out = [line, "  ".join("-" * w for w in widths)]
    for row in rows:
        out.append(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return out


def parent_main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from apps.photos import imaging  # constants only; no Django setup in the parent

    config = {
        "widths": list(imaging.RENDITION_WIDTHS),
        "webp": dict(imaging.WEBP_OPTIONS),
        "jpeg": dict(imaging.JPEG_OPTIONS),
    }
    cores = len(os.sched_getaffinity(0))
    engines = [e.strip() for e in args.engines.split(",")] if args.engines else list(ENGINES)
    reps = 1 if args.quick else args.reps

    lines = ["Pinstablr rendition benchmark (bench/images.py)", ""]
    lines += environment()
    lines.append("")

    workroot = Path(tempfile.mkdtemp(prefix="pinstablr-bench-"))
    photo_dir = Path(args.photos) if args.photos else SHARED_PHOTOS
    real = sorted(photo_dir.glob("*.jpg")) if photo_dir.is_dir() else []
    if real:
        photo_set = f"real photos from {photo_dir} ({len(real)} files)"
        all_photos = real
    else:
        photo_set = (
            f"SYNTHETIC photos ({photo_dir} is missing or empty): generated with Pillow "
            "(textured gradients, EXIF orientations 1/3/6/8, 12 MP and 2-3 MP)"
        )
        print(f"warning: {photo_dir} not found; using generated photos", file=sys.stderr)
        all_photos = synthetic_photos(workroot / "synthetic")
    photos = pick_photos(all_photos, args.quick)
    twelve = [p for p in photos if _pixels(p) >= 11_500_000]
    if not twelve:
        twelve = [max(photos, key=_pixels)]
    big_source = max(all_photos, key=_pixels)
    big = make_big(big_source, workroot)

    lines.append(f"photo set   {photo_set}")
    lines.append(
        f"measured    {len(photos)} photos ({sum(_pixels(p) for p in photos) / 1e6:.1f} MP in "
        f"all, {min(_pixels(p) for p in photos) / 1e6:.1f} to "
        f"{max(_pixels(p) for p in photos) / 1e6:.1f} MP), {reps} repetition(s)"
        + (" [--quick]" if args.quick else "")
    )
    lines.append(
        f"50 MP test  {big.name}: {BIG_SIZE[0]}x{BIG_SIZE[1]} "
        f"({BIG_SIZE[0] * BIG_SIZE[1] / 1e6:.1f} MP) JPEG q90, made at start by upscaling "
        f"{big_source.name} with Pillow LANCZOS "
        "(temp dir; not a real 50 MP photo)"
    )
    lines.append(
        f"renditions  widths {config['widths']} (never upscaled), WebP {config['webp']}, "
        f"JPEG {config['jpeg']}"
    )
    lines.append("")
    print("\n".join(lines), flush=True)

    base_plan = {
        "config": config,
        "photos": [str(p) for p in photos],
        "reps": 1,
        "cores": cores,
        "throughput_reps": 1,
    }
    rounds = 1 if args.quick else 2
    runs: dict[str, Run] = {name: Run(name) for name in engines}
    phases = None
    load_before = os.getloadavg()
    print("running (engine, task, seconds):", file=sys.stderr, flush=True)

    def attempt(run: Run, action: Any) -> None:
        if run.error:
            return
        try:
            action()
        except Exception as error:  # one broken contender must not hide the others
            run.error = str(error)
            print(f"  {run.name}: {error}", file=sys.stderr, flush=True)

    # Repetitions and throughput rounds are interleaved across engines (one child process
    # per engine per round), so a burst of outside load does not land on one engine only.
    for rep in range(reps):
        for name, run in runs.items():

            def timed(run: Run = run, name: str = name, rep: int = rep) -> None:
                plan = {**base_plan, "ssim_dir": str(workroot / "ssim" / name), "first": rep == 0}
                merge_time(run, run_child(name, "time", plan, workroot, f"time rep {rep + 1}"))

            attempt(run, timed)
    for round_ in range(rounds):
        for name, run in runs.items():

            def throughput(run: Run = run, name: str = name, round_: int = round_) -> None:
                result = run_child(name, "throughput", base_plan, workroot, f"throughput {round_}")
                if run.throughput is None:
                    run.throughput = result
                else:
                    for key in ("photos", "wall_s", "busy_s", "cpu_s"):
                        run.throughput[key] += result[key]

            attempt(run, throughput)
    for name, run in runs.items():
        if name == FLOOR:
            continue

        def rss(run: Run = run, name: str = name) -> None:
            run.rss = {}
            for path in [*twelve, big]:
                plan = {**base_plan, "photo": str(path)}
                label = f"rss {path.name[:12]}"
                run.rss[path.name] = run_child(name, "rss", plan, workroot, label)

        attempt(run, rss)
        attempt(
            run,
            lambda run=run, name=name: setattr(
                run, "ssim", compute_ssim(photos, workroot / "ssim" / name)
            ),
        )
    if "pinstablr" in runs and not args.no_phases:
        try:
            phases = run_child(
                "pinstablr", "phases", {**base_plan, "reps": min(reps, 2)}, workroot, "phases"
            )
        except Exception as error:
            print(f"  phases: {error}", file=sys.stderr, flush=True)
    micro = None
    if not args.no_micro and "libvips" in ",".join(engines):
        try:
            plan = {**base_plan, "photo": str(max(photos, key=_pixels))}
            micro = run_child("micro", "micro", plan, workroot, "step by step")
        except Exception as error:
            print(f"  micro: {error}", file=sys.stderr, flush=True)
    paired = None
    if args.variants:
        paired = run_variants(runs, base_plan, workroot, photos, twelve, big, reps)
    load_after = os.getloadavg()

    report = build_report(runs, photos, twelve, big, phases, cores, paired, micro)
    print("\n".join(report))
    print(
        f"\nload average (1 min) before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        f"on {cores} cores (other processes on the machine inflate wall times; CPU ms less so)"
    )
    print(f"\nbenchmark wall time: {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {name: run.__dict__ for name, run in runs.items()} | {"phases": phases}, indent=1
            )
        )
    if not args.keep:
        import shutil

        shutil.rmtree(workroot, ignore_errors=True)
    else:
        print(f"kept work files in {workroot}")


PAIRED_BASE = ("pinstablr", "libvips-1t")


def run_variants(
    runs: dict[str, Run],
    base_plan: dict[str, Any],
    workroot: Path,
    photos: list[Path],
    twelve: list[Path],
    big: Path,
    reps: int,
) -> dict[str, Any] | None:
    """Prototype variants: timed in one process with Pinstablr and libvips-1t, interleaved
    (see task_paired); then peak RSS and output quality like the other engines."""
    plan = {
        **base_plan,
        "engines": [*PAIRED_BASE, *VARIANTS],
        "reps": reps,
        "ssim_root": str(workroot / "ssim-paired"),
    }
    try:
        paired = run_child("paired", "paired", plan, workroot, f"paired x{reps}")["engines"]
    except Exception as error:
        print(f"  paired: {error}", file=sys.stderr, flush=True)
        return None
    for name in VARIANTS:
        run = Run(name, time=paired[name], rss={})
        runs[name] = run
        try:
            for path in [*twelve, big]:
                plan = {**base_plan, "photo": str(path)}
                label = f"rss {path.name[:12]}"
                assert run.rss is not None
                run.rss[path.name] = run_child(name, "rss", plan, workroot, label)
            run.ssim = compute_ssim(photos, workroot / "ssim-paired" / name)
        except Exception as error:
            run.error = str(error)
            print(f"  {name}: {error}", file=sys.stderr, flush=True)
    return paired


def merge_time(run: Run, result: dict[str, Any]) -> None:
    """Add one round of the time task (one child process) to the engine's results."""
    if run.time is None:
        run.time = result
        return
    for name, entry in result["photos"].items():
        mine = run.time["photos"][name]
        mine["ms"] += entry["ms"]
        mine["cpu_ms"] += entry["cpu_ms"]


_REFERENCE_CACHE: dict[str, Any] = {}


def compute_ssim(photos: list[Path], folder: Path) -> dict[str, dict[str, float]]:
    """{photo: {"webp": ssim, "jpeg": ssim, "webp@2048": ..., "jpeg@2048": ...}}."""
    scores: dict[str, dict[str, float]] = {}
    for path in photos:
        scores[path.name] = {}
        for width, suffix, key in ((SSIM_WIDTH, "", ""), (SSIM_WIDE, f".w{SSIM_WIDE}", "@wide")):
            for fmt in FORMATS:
                candidate = folder / f"{path.stem}{suffix}.{fmt}"
                if not candidate.exists():
                    continue
                cache_key = f"{path}@{width}"
                if cache_key not in _REFERENCE_CACHE:
                    _REFERENCE_CACHE[cache_key] = reference_luma(path, width)
                reference = _REFERENCE_CACHE[cache_key]
                scores[path.name][fmt + key] = ssim_luma(reference, candidate_luma(candidate))
    return scores


def build_report(
    runs: dict[str, Run],
    photos: list[Path],
    twelve: list[Path],
    big: Path,
    phases: dict[str, Any] | None,
    cores: int,
    paired: dict[str, Any] | None = None,
    micro: dict[str, Any] | None = None,
) -> list[str]:
    out: list[str] = []
    ok = {name: run for name, run in runs.items() if run.time is not None}
    main = {name: run for name, run in ok.items() if name not in VARIANTS}
    twelve_names = [p.name for p in twelve]

    def med(name: str) -> float | None:
        run = ok.get(name)
        return median_of_photos(run.time) if run and run.time else None

    def tot(name: str) -> float | None:
        run = ok.get(name)
        return total_of_photos(run.time) if run and run.time else None

    def med12(name: str) -> float | None:
        run = ok.get(name)
        return median_of_photos(run.time, twelve_names) if run and run.time else None

    def per_core(name: str) -> float | None:
        run = runs.get(name)
        if not run or not run.throughput:
            return None
        t = run.throughput
        return t["photos"] / t["busy_s"]

    def per_core_cpu(name: str) -> float | None:
        run = runs.get(name)
        if not run or not run.throughput:
            return None
        return run.throughput["photos"] / run.throughput["cpu_s"]

    def per_core_wall(name: str) -> float | None:
        run = runs.get(name)
        if not run or not run.throughput:
            return None
        t = run.throughput
        return t["photos"] / t["wall_s"] / t["cores"]

    out.append("== Speed: wall time per photo for the whole rendition set (8 files) ==")
    out.append(
        "median ms = median over photos of each photo's median over repetitions; total = sum of "
        "per-photo medians; CPU = process CPU time (all threads); x = ratio to that engine "
        "(time: lower is better)"
    )

    def cpu(name: str) -> float | None:
        run = ok.get(name)
        return total_of_photos(run.time, "cpu_ms") if run and run.time else None

    rows = []
    for name in main:
        rows.append(
            [
                name,
                f"{med(name):.1f}",
                f"{med12(name):.1f}",
                f"{tot(name):.0f}",
                ratio(tot(name), tot("libvips")),
                ratio(tot(name), tot("libvips-1t")),
                ratio(tot(name), tot("pinstablr")),
                f"{cpu(name):.0f}",
                ratio(cpu(name), cpu("libvips-1t")),
                ratio(cpu(name), cpu("pinstablr")),
            ]
        )
    out += table(
        [
            "engine",
            "median ms",
            "12MP med ms",
            "total ms",
            "x libvips",
            "x libvips-1t",
            "x pinstablr",
            "CPU ms",
            "CPU x vips-1t",
            "CPU x pinst",
        ],
        rows,
    )
    out.append("")
    out.append(
        f"== Throughput: {cores} worker processes (one per core) over the photo list ==\n"
        "photos/s/core (busy) = photos / sum of per-photo wall times measured inside the "
        "workers while all run at once; (wall) = photos / pool wall time / cores; (CPU) = "
        "photos / CPU seconds of the workers (what a dedicated core would do; least affected "
        "by other processes). x = ratios of busy and of CPU throughput (higher is better)"
    )
    rows = []
    for name, run in runs.items():
        if not run.throughput:
            continue
        rows.append(
            [
                name,
                str(run.throughput["photos"]),
                f"{run.throughput['wall_s']:.2f}",
                f"{per_core(name):.2f}",
                f"{per_core_wall(name):.2f}" if name != FLOOR else "n/a (prep)",
                f"{per_core_cpu(name):.2f}",
                ratio(per_core(name), per_core("libvips")),
                ratio(per_core(name), per_core("pinstablr")),
                ratio(per_core_cpu(name), per_core_cpu("libvips-1t")),
                ratio(per_core_cpu(name), per_core_cpu("pinstablr")),
            ]
        )
    out += table(
        [
            "engine",
            "photos",
            "wall s",
            "ph/s/core busy",
            "wall",
            "CPU",
            "busy x libvips",
            "busy x pinst",
            "CPU x vips-1t",
            "CPU x pinst",
        ],
        rows,
    )
    out.append("")
    out.append(
        "== Peak RSS of a fresh worker process rendering one photo (MiB, VmHWM) ==\n"
        "peak = high-water mark of the whole process after rendering the photo once; base = "
        "RSS after imports and setup, before the photo (Python + the engine's libraries)"
    )
    rss_names = [p.name for p in twelve] + [big.name]
    rows = []
    for name, run in runs.items():
        if not run.rss:
            continue
        row = [name]
        for key in rss_names:
            r = run.rss.get(key)
            row.append(f"{r['peak_mb']:.0f} (base {r['baseline_mb']:.0f})" if r else "-")
        pin = runs.get("pinstablr")
        big_peak = run.rss.get(big.name, {}).get("peak_mb")
        pin_big = pin.rss.get(big.name, {}).get("peak_mb") if pin and pin.rss else None
        row.append(ratio(big_peak, pin_big))
        rows.append(row)
    out += table(["engine", *[n[:24] for n in rss_names], "50MP x pinstablr"], rows)
    out.append("")
    out.append(
        "== Output size (all renditions of all photos) and quality ==\n"
        f"SSIM: luma (Pillow 'L', BT.601) of the {SSIM_WIDTH}-wide rendition (or the source width "
        "when narrower) against a reference made by Pillow LANCZOS from the full-resolution "
        "decode (no draft), sRGB, upright; Gaussian 11x11 window, sigma 1.5 (Wang et al. "
        f"2004); mean over photos (min in brackets). @{SSIM_WIDE}: the same on the "
        f"{SSIM_WIDE}-wide rendition, over the photos wider than {SSIM_WIDE} (where the first "
        "and largest resize happens)"
    )
    rows = []
    pin = ok.get("pinstablr")
    vips = ok.get("libvips")

    def total_bytes(run: Run | None, fmt: str) -> int | None:
        if not run or not run.time:
            return None
        return sum(v["bytes"].get(fmt, 0) for v in run.time["photos"].values())

    for name, run in ok.items():
        if name == FLOOR:
            continue
        row = [name]
        for fmt in FORMATS:
            b = total_bytes(run, fmt)
            row += [
                f"{b / 1e6:.2f}",
                ratio(b, total_bytes(vips, fmt)),
                ratio(b, total_bytes(pin, fmt)),
            ]
        for key in (*FORMATS, *(f"{fmt}@wide" for fmt in FORMATS)):
            values = [s[key] for s in (run.ssim or {}).values() if key in s]
            row.append(f"{statistics.mean(values):.4f} ({min(values):.3f})" if values else "-")
        rows.append(row)
    out += table(
        [
            "engine",
            "WebP MB",
            "x libvips",
            "x pinst",
            "JPEG MB",
            "x libvips",
            "x pinst",
            "SSIM WebP",
            "SSIM JPEG",
            f"WebP@{SSIM_WIDE}",
            f"JPEG@{SSIM_WIDE}",
        ],
        rows,
    )
    out.append("")
    out.append("== Settings each contender actually used ==")
    for name, run in ok.items():
        assert run.time is not None
        settings = ", ".join(f"{k}={v}" for k, v in run.time["settings"].items())
        out.append(f"{name}: {settings}")
        for fmt, params in run.time.get("encoder_params", {}).items():
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            out.append(f"    Pillow save {fmt}: {shown}")
    out.append(
        "    Pillow's WEBP encoder defaults to method=4 when no method is passed; libvips: "
        "Q/effort as shown, keep=none, no optimize_coding, not interlaced."
    )
    errors = [f"{name}: {run.error}" for name, run in runs.items() if run.error]
    if errors:
        out.append("")
        out.append("== Failed contenders ==")
        out += errors
    if phases:
        out.append("")
        out.append("== Pinstablr render, phase by phase (ms, sum of per-photo medians) ==")
        totals = phases["totals"]
        all_ms = sum(totals.values())
        twelve_rows = {k: v for k, v in phases["per_photo"].items() if k in twelve_names}
        rows = []
        for key, value in totals.items():
            twelve_ms = (
                statistics.median(p[key] for p in twelve_rows.values()) if twelve_rows else 0
            )
            rows.append([key, f"{value:.0f}", f"{100 * value / all_ms:.0f}%", f"{twelve_ms:.1f}"])
        rows.append(["sum", f"{all_ms:.0f}", "100%", ""])
        out += table(["phase", "all photos ms", "share", "12MP median ms"], rows)
    if micro:
        out.append("")
        out.append(
            f"== Step by step, Pillow against libvips, on {micro['photo']} (one thread, "
            "no orientation; min CPU ms of 5) =="
        )
        rows = [
            [step, f"{pil:.1f}", f"{vips:.1f}", ratio(pil, vips)]
            for step, (pil, vips) in micro["rows"].items()
        ]
        out += table(["step", "Pillow ms", "libvips ms", "Pillow x libvips"], rows)
    if paired:
        out += paired_report(paired, photos, twelve_names)
    out.append("")
    out.append("== Per photo: median ms, pixels ==")
    names = list(main)
    rows = []
    for path in photos:
        row = [path.name[:28], f"{_pixels(path) / 1e6:.1f}"]
        for name in names:
            entry = ok[name].time["photos"].get(path.name) if ok[name].time else None  # type: ignore[union-attr]
            row.append(f"{statistics.median(entry['ms']):.0f}" if entry else "-")
        rows.append(row)
    out += table(["photo", "MP", *names], rows)
    return out


def paired_report(paired: dict[str, Any], photos: list[Path], twelve_names: list[str]) -> list[str]:
    out = [
        "",
        "== Variants of Pinstablr's engine: paired run ==",
        "one process (VIPS_CONCURRENCY=1), every engine renders each photo in turn, the order "
        "rotating each repetition; CPU ms per photo = minimum over the repetitions (the least "
        "disturbed by outside load), summed over photos; 'median' = the same with medians",
    ]

    def total(name: str, pick: Any, names: list[str] | None = None) -> float:
        entries = paired[name]["photos"]
        return sum(pick(entries[k]["cpu_ms"]) for k in (names or list(entries)))

    base = total("pinstablr", min)
    vips = total("libvips-1t", min)
    base12 = total("pinstablr", min, twelve_names)
    base_med = total("pinstablr", statistics.median)
    rows = []
    for name in paired:
        value = total(name, min)
        value12 = total(name, min, twelve_names)
        median = total(name, statistics.median)
        rows.append(
            [
                name,
                f"{value:.0f}",
                ratio(value, base),
                ratio(value, vips),
                f"{value12:.0f}",
                ratio(value12, base12),
                f"{median:.0f}",
                ratio(median, base_med),
            ]
        )
    out += table(
        [
            "engine",
            "CPU ms (min)",
            "x pinstablr",
            "x libvips-1t",
            "12MP CPU ms",
            "12MP x pinst",
            "CPU ms (median)",
            "x pinstablr",
        ],
        rows,
    )
    out.append("")
    out.append("per photo, min CPU ms:")
    names = list(paired)
    rows = []
    for path in photos:
        row = [path.name[:28]]
        for name in names:
            row.append(f"{min(paired[name]['photos'][path.name]['cpu_ms']):.0f}")
        rows.append(row)
    short = [n.replace("pinstablr-", "p-") for n in names]
    out += table(["photo", *short], rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition on 5 photos")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (full run)")
    parser.add_argument("--engines", help=f"comma-separated subset of {', '.join(ENGINES)}")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also time prototype variants of Pinstablr's engine in a paired run "
        f"({', '.join(VARIANTS)})",
    )
    parser.add_argument("--photos", help="folder of *.jpg to use instead of shared/data/photos")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--no-phases", action="store_true", help="skip the phase breakdown")
    parser.add_argument(
        "--no-micro", action="store_true", help="skip the step-by-step Pillow/libvips table"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp work folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
