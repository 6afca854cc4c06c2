"""The contenders of bench/images.py, each instantiated only inside its own child process.

``pinstablr`` is ``apps.photos.imaging.render`` itself. The prototype variants run that same
``render`` with one of its steps swapped for the prototype's (see :class:`PinstablrVariant`),
so they measure a change to the engine, not a copy of it.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

FORMATS = ("webp", "jpeg")
ENGINES = ("pinstablr", "libvips", "libvips-1t", "sorl", "easy", "floor")
# Prototypes still waiting for a decision (bench/README.md, "Proposed changes"); the ones
# adopted (ThumbHash from 64 px, freeing the full decode early) or rejected (transpose after
# the first resize, WebP method 3) are gone.
VARIANTS = ("pinstablr-draft95", "pinstablr-bicubic", "pinstablr-draft95-bicubic")
VARIANT_FLAGS = frozenset({"draft95", "bicubic"})
FLOOR = "floor"
# draft95: the JPEG draft may give as little as this share of the largest rendition's width.
DRAFT_SHARE = 0.95

Output = list[tuple[int, int, str, bytes]]  # (width, height, "webp"|"jpeg", data)


def widths_for(upright_width: int, widths: list[int]) -> list[int]:
    """Same rule as imaging.rendition_widths: largest first, never wider than the source."""
    return sorted({min(width, upright_width) for width in widths}, reverse=True)


def upright_size_of(data: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image once its EXIF orientation is applied."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:
            orientation = 1
        width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def image_dims(data: bytes) -> tuple[int, int]:
    """(width, height) of an encoded image as stored."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


@contextmanager
def swapped(target: Any, **replacements: Any) -> Iterator[None]:
    """Attributes of ``target`` (a module or a class) replaced for the block, then restored."""
    saved = {name: getattr(target, name) for name in replacements}
    for name, value in replacements.items():
        setattr(target, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(target, name, value)


class Engine:
    """``prepare`` (untimed) then ``render`` (timed) then ``outputs`` (untimed)."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.widths: list[int] = config["widths"]

    def setup(self) -> None:
        """Imports and one-time work, outside every measurement."""

    def prepare(self, path: str, data: bytes, tag: str) -> Any:
        """Untimed work before one render (saving the source where a library wants it)."""
        return None

    def render(self, data: bytes, state: Any) -> Any:
        """The timed work: the whole rendition set of one photo."""
        raise NotImplementedError

    def outputs(self, result: Any, state: Any) -> Output:
        """The encoded renditions of one render."""
        return list(result)

    def settings(self) -> dict[str, Any]:
        """The settings this contender ran with, for the report."""
        return {}

    def versions(self) -> dict[str, str]:
        """Versions of the libraries this contender adds."""
        return {}


def _django_project() -> None:
    """Pinstablr's own settings (the child's PYTHONPATH holds the repository)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinstablr.settings.test")
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


class PinstablrVariant(PinstablrEngine):
    """imaging.render with a prototype step swapped in for the render only (bench only).

    The name lists the changes, e.g. ``pinstablr-draft95-bicubic``:

    draft95: the JPEG draft may pick a DCT scale that gives at least 95% of the 2048 target
             (e.g. 4032 -> 2016 at 1/2, 8160 -> 2040 at 1/4); the small rest is resized up
             to the size computed from the full dimensions, so every rendition keeps its
             exact size (``imaging.decode_upright`` swapped).
    bicubic: BICUBIC instead of LANCZOS in the cascade (``imaging.resize_cascade`` swapped).
    """

    def __init__(self, config: dict[str, Any], workdir: Path, variant: str) -> None:
        super().__init__(config, workdir)
        self.variant = variant
        self.flags = set(variant.split("-"))
        unknown = self.flags - VARIANT_FLAGS
        if unknown:
            raise SystemExit(f"unknown variant flags {sorted(unknown)}")

    def setup(self) -> None:
        super().setup()
        from PIL import Image

        self.image_class = Image.Image
        self.resample = (
            Image.Resampling.BICUBIC if "bicubic" in self.flags else Image.Resampling.LANCZOS
        )
        # The engine's own steps, called by the swapped-in ones.
        self.decode_upright = self.imaging.decode_upright
        self.resize_cascade = self.imaging.resize_cascade

    def render(self, data: bytes, state: Any) -> Any:
        steps: dict[str, Any] = {}
        if "draft95" in self.flags:
            steps["decode_upright"] = self.decode_draft95
        if "bicubic" in self.flags:
            steps["resize_cascade"] = self.cascade_bicubic
        with swapped(self.imaging, **steps):
            return self.imaging.render(data, formats=FORMATS)

    def decode_draft95(self, data: bytes, *, max_width: int | None = None) -> Any:
        """decode_upright asking the draft for 95% of ``max_width``, then the rest resized up."""
        imaging = self.imaging
        if not max_width:
            return self.decode_upright(data)
        with imaging.open_image(data) as header:
            width, height = imaging.upright_size(header.size, imaging.orientation_of(header))
        if width <= max_width:
            return self.decode_upright(data, max_width=max_width)
        base = self.decode_upright(data, max_width=math.ceil(max_width * DRAFT_SHARE))
        if base.width < max_width:
            target = (max_width, max(1, round(height * max_width / width)))
            base = base.resize(target, self.resample, reducing_gap=3.0)
        return base

    def cascade_bicubic(self, base: Any, widths: list[int]) -> Any:
        """resize_cascade with every resize it makes done in BICUBIC."""
        resize = self.image_class.resize
        bicubic = self.resample

        def resize_bicubic(
            image: Any, size: Any, resample: Any = None, *args: Any, **kw: Any
        ) -> Any:
            return resize(image, size, bicubic, *args, **kw)

        with swapped(self.image_class, resize=resize_bicubic):
            return self.resize_cascade(base, widths)

    def settings(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "webp": dict(self.imaging.WEBP_OPTIONS),
            "resample": str(self.resample),
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


class _StoredThumbnails(Engine):
    """The libraries that work on a stored file and write their thumbnails to storage."""

    app = ""

    def setup(self) -> None:
        _django_minimal(self.workdir, self.app)
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        self.storage = default_storage
        self.content_file = ContentFile

    def prepare(self, path: str, data: bytes, tag: str) -> Any:
        name = self.storage.save(f"src/{tag}/{Path(path).name}", self.content_file(data))
        return name, widths_for(upright_size_of(data)[0], self.widths)

    def outputs(self, result: Any, state: Any) -> Output:
        out: Output = []
        for fmt, thumb in result:
            with self.storage.open(thumb.name, "rb") as handle:
                data = handle.read()
            out.append((*image_dims(data), fmt, data))
        return out


class SorlEngine(_StoredThumbnails):
    """sorl.thumbnail.get_thumbnail: one call per width and format, library defaults."""

    app = "sorl.thumbnail"

    def setup(self) -> None:
        super().setup()
        from sorl.thumbnail import get_thumbnail

        self.get_thumbnail = get_thumbnail

    def render(self, data: bytes, state: Any) -> Any:
        name, widths = state
        return [
            (fmt, self.get_thumbnail(name, str(width), format=fmt.upper(), upscale=False))
            for width in widths
            for fmt in FORMATS
        ]

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


class EasyEngine(_StoredThumbnails):
    """easy_thumbnails get_thumbnailer(...).get_thumbnail: per width and format, defaults."""

    app = "easy_thumbnails"

    def setup(self) -> None:
        super().setup()
        from easy_thumbnails.files import get_thumbnailer

        self.get_thumbnailer = get_thumbnailer

    def render(self, data: bytes, state: Any) -> Any:
        name, widths = state
        result = []
        for fmt, extension in (("webp", "webp"), ("jpeg", "jpg")):
            thumbnailer = self.get_thumbnailer(name)
            thumbnailer.thumbnail_extension = extension
            result += [(fmt, thumbnailer.get_thumbnail({"size": (width, 0)})) for width in widths]
        return result

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

    The renditions are made beforehand (untimed) by Pinstablr's own decode and cascade, and
    encoded by its own ``encode``.
    """

    def setup(self) -> None:
        from apps.photos import imaging  # the engine's functions only: no Django setup

        self.imaging = imaging

    def _draft_target(self, image: Any) -> tuple[int, int] | None:
        imaging = self.imaging
        orientation = imaging.orientation_of(image)
        width, height = imaging.upright_size(image.size, orientation)
        top = max(self.widths)
        if image.format not in ("JPEG", "MPO") or width <= top:
            return None
        return imaging.upright_size((top, max(1, round(height * top / width))), orientation)

    def prepare(self, path: str, data: bytes, tag: str) -> Any:
        imaging = self.imaging
        base = imaging.decode_upright(data, max_width=max(self.widths))
        return imaging.resize_cascade(base, widths_for(base.width, self.widths))

    def render(self, data: bytes, state: Any) -> Any:
        image = self.imaging.open_image(data)
        target = self._draft_target(image)
        if target:
            image.draft("RGB", target)
        image.load()
        return [
            (sized.width, sized.height, fmt, self.imaging.encode(sized, fmt))
            for sized in state
            for fmt in FORMATS
        ]

    def settings(self) -> dict[str, Any]:
        return {"webp": self.config["webp"], "jpeg": self.config["jpeg"]}


def make_engine(name: str, config: dict[str, Any], workdir: Path) -> Engine:
    """The contender called ``name`` (one of ENGINES or VARIANTS), not yet set up."""
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
