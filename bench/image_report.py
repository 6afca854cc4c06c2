"""The report of bench/images.py: the tables printed after a run, from the children's results."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.image_engines import FLOOR, FORMATS, VARIANTS
from bench.image_tasks import SSIM_WIDE, SSIM_WIDTH


@dataclass
class Run:
    name: str
    time: dict[str, Any] | None = None
    throughput: dict[str, Any] | None = None
    rss: dict[str, dict[str, Any]] | None = None
    ssim: dict[str, dict[str, float]] | None = None
    error: str | None = None


def pixels(path: Path) -> int:
    """Width times height of an image file (header only)."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size[0] * image.size[1]


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
                f"{b / 1e6:.2f}" if b is not None else "-",
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
        row = [path.name[:28], f"{pixels(path) / 1e6:.1f}"]
        for name in names:
            timings = ok[name].time
            entry = timings["photos"].get(path.name) if timings else None
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
