"""Web CPU per upload against worker CPU per photo: the web process stays light.

Each real photo is POSTed to ``/api/v1/photos/`` through DRF's test client (the whole Django
stack: middleware, multipart parsing, validation, storage write, database row, queueing on
the embedded filesystem broker), timing ``time.process_time()`` around the request. Then the
worker's part for the same photo, ``apps.photos.services.photo_process``, is timed the same
way in the same process. Settings: ``pinstablr.settings.dev`` with a temporary
``PINSTABLR_VAR_DIR`` (SQLite, local file storage, filesystem broker), so nothing outside the
temp folder is touched.

    .venv/bin/python bench/upload_cpu.py            # 3 rounds (a new user per round)
    .venv/bin/python bench/upload_cpu.py --quick    # 1 round on 5 photos
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.core.files.uploadedfile import SimpleUploadedFile

REPO = Path(__file__).resolve().parent.parent
SHARED_PHOTOS = REPO.parent / "shared" / "data" / "photos"


def setup_django(var_dir: Path) -> None:
    os.environ["PINSTABLR_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pinstablr.settings.dev"
    os.environ.setdefault("DJANGO_DEBUG", "false")  # DEBUG would record every SQL query
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "PINSTABLR_MEDIA_STORAGE"):
        os.environ.pop(name, None)  # the embedded defaults, inside the temp folder
    sys.path.insert(0, str(REPO))
    import logging

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate_all", verbosity=0, stdout=io.StringIO())
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "No hostname" notice
    from django.conf import settings

    # The embedded filesystem broker needs its folders (the local launcher makes them).
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if options.get(key):
            Path(str(options[key])).mkdir(parents=True, exist_ok=True)


def synthetic_photos(folder: Path) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (size, orientation) in enumerate(
        [((4000, 3000), 6), ((4032, 3024), 1), ((2048, 1536), 1), ((1600, 1200), 8)]
    ):
        small = Image.effect_noise((size[0] // 8, size[1] // 8), 60).convert("RGB")
        image = Image.blend(
            small, Image.linear_gradient("L").resize(small.size).convert("RGB"), 0.6
        ).resize(size, Image.Resampling.BICUBIC)
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = folder / f"synthetic_{index}.jpg"
        image.save(path, "JPEG", quality=90, exif=exif)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round on 5 photos")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (a new user each)")
    parser.add_argument("--photos", help="folder of *.jpg instead of shared/data/photos")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="pinstablr-upload-bench-"))
    try:
        run(args, var_dir)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args: argparse.Namespace, var_dir: Path) -> None:
    photo_dir = Path(args.photos) if args.photos else SHARED_PHOTOS
    photos = sorted(photo_dir.glob("*.jpg")) if photo_dir.is_dir() else []
    if photos:
        photo_set = f"real photos from {photo_dir} ({len(photos)} files)"
    else:
        photo_set = f"SYNTHETIC photos ({photo_dir} missing): generated with Pillow"
        photos = synthetic_photos(var_dir / "synthetic")
    if args.quick and len(photos) > 5:
        photos = sorted(photos, key=lambda p: p.stat().st_size, reverse=True)[:2] + photos[-3:]
    rounds = 1 if args.quick else args.rounds

    setup_django(var_dir)
    from django.conf import settings
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
    from PIL import Image
    from PIL import __version__ as pillow_version
    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.photos import services
    from apps.photos.models import Photo

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    print("Pinstablr upload CPU: web request against worker processing (bench/upload_cpu.py)")
    print()
    print(f"date        {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"cpu         {cpu}, {len(os.sched_getaffinity(0))} cores")
    print(f"python      {platform.python_version()}, Pillow {pillow_version}")
    print(
        f"settings    {os.environ['DJANGO_SETTINGS_MODULE']} (DEBUG={settings.DEBUG}), temp var dir"
    )
    print(f"database    {settings.DATABASES['default']['ENGINE']} (file in the temp dir)")
    print(f"broker      {settings.CELERY_BROKER_URL} (tasks queued, no worker consuming)")
    print(f"photo set   {photo_set}; {len(photos)} photos x {rounds} round(s)")
    print(
        "web CPU     time.process_time() around APIClient POST /api/v1/photos/ (body encoded "
        "beforehand, so the client's own multipart encoding is not counted)"
    )
    print("worker CPU  time.process_time() around services.photo_process(photo_id=...)")
    print()

    def post(client: APIClient, path: Path) -> tuple[float, float, int, int | None]:
        body = encode_multipart(
            BOUNDARY,
            {"image": _named_file(path), "caption": "bench"},
        )
        wall, start = time.perf_counter(), time.process_time()
        response = client.post("/api/v1/photos/", body, content_type=MULTIPART_CONTENT)
        cpu_ms = (time.process_time() - start) * 1000
        wall_ms = (time.perf_counter() - wall) * 1000
        photo_id = response.json().get("id") if response.status_code in (200, 201) else None
        if response.status_code != 201:
            print(f"  {path.name}: HTTP {response.status_code} {response.content[:300]!r}")
        return cpu_ms, wall_ms, response.status_code, photo_id

    def process(photo_id: int) -> tuple[float, float]:
        wall, start = time.perf_counter(), time.process_time()
        services.photo_process(photo_id=photo_id)
        return (time.process_time() - start) * 1000, (time.perf_counter() - wall) * 1000

    # Warm-up: imports, URL resolver, first connection, first encode.
    warm_user = User.objects.create_user(username="bench-warm", password="unused-bench")  # noqa: S106
    warm_client = APIClient(HTTP_HOST="localhost")
    warm_client.force_authenticate(warm_user)
    warm = min(photos, key=lambda p: p.stat().st_size)
    _, _, status, warm_id = post(warm_client, warm)
    if status != 201 or warm_id is None:
        raise SystemExit(
            f"the upload API did not accept {warm.name} (HTTP {status}); see the message above"
        )
    process(warm_id)

    web: dict[str, list[float]] = {p.name: [] for p in photos}
    web_wall: dict[str, list[float]] = {p.name: [] for p in photos}
    worker: dict[str, list[float]] = {p.name: [] for p in photos}
    worker_wall: dict[str, list[float]] = {p.name: [] for p in photos}
    statuses: dict[str, set[str]] = {p.name: set() for p in photos}
    for round_ in range(rounds):
        user = User.objects.create_user(username=f"bench-{round_}", password="unused-bench")  # noqa: S106
        client = APIClient(HTTP_HOST="localhost")
        client.force_authenticate(user)
        for path in photos:
            cpu_ms, wall_ms, status, photo_id = post(client, path)
            if photo_id is None:
                statuses[path.name].add(f"HTTP {status}")
                continue
            web[path.name].append(cpu_ms)
            web_wall[path.name].append(wall_ms)
            cpu_ms, wall_ms = process(photo_id)
            worker[path.name].append(cpu_ms)
            worker_wall[path.name].append(wall_ms)
            statuses[path.name].add(Photo.objects.get(pk=photo_id).status)

    rows = []
    for path in photos:
        if not web[path.name]:
            rows.append([path.name[:30], "-", "-", "-", "-", ",".join(sorted(statuses[path.name]))])
            continue
        with Image.open(path) as image:
            megapixels = image.size[0] * image.size[1] / 1e6
        w, k = statistics.median(web[path.name]), statistics.median(worker[path.name])
        rows.append(
            [
                path.name[:30],
                f"{megapixels:.1f}",
                f"{w:.1f}",
                f"{k:.0f}",
                f"{k / w:.0f}x",
                ",".join(sorted(statuses[path.name])),
            ]
        )
    print_table(["photo", "MP", "web CPU ms", "worker CPU ms", "worker/web", "status"], rows)
    done = [p.name for p in photos if web[p.name]]
    if not done:
        raise SystemExit("no upload succeeded")
    web_med = statistics.median(statistics.median(web[n]) for n in done)
    worker_med = statistics.median(statistics.median(worker[n]) for n in done)
    web_total = sum(statistics.median(web[n]) for n in done)
    worker_total = sum(statistics.median(worker[n]) for n in done)
    web_wall_med = statistics.median(statistics.median(web_wall[n]) for n in done)
    worker_wall_med = statistics.median(statistics.median(worker_wall[n]) for n in done)
    print()
    print(f"median web CPU per upload      {web_med:8.1f} ms   (wall {web_wall_med:.1f} ms)")
    print(f"median worker CPU per photo    {worker_med:8.1f} ms   (wall {worker_wall_med:.1f} ms)")
    print(f"ratio of medians worker/web    {worker_med / web_med:8.1f}x")
    print(
        f"totals over the set            web {web_total:.0f} ms, worker {worker_total:.0f} ms "
        f"({worker_total / web_total:.1f}x); web share of all CPU "
        f"{100 * web_total / (web_total + worker_total):.1f}%"
    )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


def _named_file(path: Path) -> SimpleUploadedFile:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for index, row in enumerate([headers, ["-" * w for w in widths], *rows]):
        cells = [
            str(c).ljust(w) if i == 0 or i == len(row) - 1 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        del index


if __name__ == "__main__":
    main()
