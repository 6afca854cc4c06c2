"""Output quality for bench/images.py: SSIM of each contender's renditions against a reference.

The reference is made here with Pillow alone (full decode, sRGB, upright, one LANCZOS resize)
and keeps its own EXIF transpose table on purpose: it must not share code with the engine it
judges.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from bench.image_engines import FORMATS
from bench.image_tasks import SSIM_WIDE, SSIM_WIDTH


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
    """The luma of an encoded rendition, as stored."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


_REFERENCE_CACHE: dict[str, Any] = {}


def compute_ssim(photos: list[Path], folder: Path) -> dict[str, dict[str, float]]:
    """{photo: {"webp": ssim, "jpeg": ssim, "webp@wide": ..., "jpeg@wide": ...}}."""
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
