"""The parent process of bench/images.py: photo sets, one child process per contender and
task, then the report."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.image_engines import ENGINES, FLOOR, VARIANTS
from bench.image_quality import compute_ssim
from bench.image_report import Run, build_report, pixels

REPO = Path(__file__).resolve().parent.parent
SHARED_PHOTOS = REPO.parent / "shared" / "data" / "photos"
# Pinstablr's upload cap is 50,000,000 pixels: 8160x6120 (4:3, 49.9 MP) is the largest 4:3
# size that is still accepted (8200x6100 would be rejected as too large).
BIG_SIZE = (8160, 6120)
PAIRED_BASE = ("pinstablr", "libvips-1t")


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
    by_pixels = sorted(all_photos, key=lambda p: -pixels(p))
    chosen = by_pixels[:2]
    rest = by_pixels[2:]
    step = max(1, len(rest) // 3)
    chosen += rest[::step][:3]
    return sorted(chosen)


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
        "-m",
        "bench.images",
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


def parent_main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
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
    twelve = [p for p in photos if pixels(p) >= 11_500_000]
    if not twelve:
        twelve = [max(photos, key=pixels)]
    big_source = max(all_photos, key=pixels)
    big = make_big(big_source, workroot)

    lines.append(f"photo set   {photo_set}")
    lines.append(
        f"measured    {len(photos)} photos ({sum(pixels(p) for p in photos) / 1e6:.1f} MP in "
        f"all, {min(pixels(p) for p in photos) / 1e6:.1f} to "
        f"{max(pixels(p) for p in photos) / 1e6:.1f} MP), {reps} repetition(s)"
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
            plan = {**base_plan, "photo": str(max(photos, key=pixels))}
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
        shutil.rmtree(workroot, ignore_errors=True)
    else:
        print(f"kept work files in {workroot}")


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
