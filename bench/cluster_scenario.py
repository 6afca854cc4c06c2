"""A bounded load on the loopback cluster while a web server and an image worker are killed.

Against the cluster of ``deploy/local/cluster.py`` (``make cluster``), everything through its
nginx on 127.0.0.1, with API tokens of users made for this run:

* browsing: anonymous pages (home, explore, photo pages, profiles) and API lists and
  details, plus each user's home feed;
* uploads: JPEGs made here with Pillow, noisy so they compress like photos: most of them
  1024x768, every fifth 4000x3000 (12 MP, a phone photo), each one different;
* likes: PUT and DELETE on photos that are ready.

Meanwhile, on a fixed timeline:

1. ``web-2`` is killed with SIGKILL: its gunicorn master and workers at once, its process
   group, as when its machine dies.  Killing one gunicorn worker would only show gunicorn
   replacing it within milliseconds; killing the whole server is what the load balancer must
   absorb (nginx passes the idempotent requests it had in flight, and new ones, to the
   others).  It is started again with ``cluster.py start web-2``.
2. ``images-1`` (one Celery process on queue ``images``) is killed the same way while it has
   a ``process_photo`` task in flight, read from its log (received, not yet finished).  The
   task is acknowledged late, so RabbitMQ gives it to ``images-2``; ``images-1`` is started
   again with ``cluster.py start images-1``.

Then the load stops, and the queue is left to drain.  Results: requests by kind, failures
(idempotent and not), p50/p99 latency, how long until every acknowledged upload was ready
and until the images queue was empty, and a check of the database and the bucket: every
acknowledged upload is exactly one photo, ready, with exactly one rendition per expected
width and format, each rendition's object in the bucket.  The script first runs the same
load with nothing killed: the baseline, on the same machine at the same time.

A failed upload (the web server died with it) is retried by the client with the same bytes;
the service answers an upload of bytes the user already has with that photo, so a retry
never doubles it.

    .venv/bin/python -m deploy.local.cluster up
    .venv/bin/python bench/cluster_scenario.py          # ~2.5 minutes: baseline, then kills
    .venv/bin/python bench/cluster_scenario.py --no-baseline --json results.json
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import requests
from PIL import Image

if __name__ == "__main__" and not __package__:  # run as a file: run the package's module
    _ROOT = str(Path(__file__).resolve().parents[1])
    _PATH = os.pathsep.join(filter(None, [_ROOT, os.getenv("PYTHONPATH")]))
    _ARGV = [sys.executable, "-m", "bench.cluster_scenario", *sys.argv[1:]]
    os.execve(sys.executable, _ARGV, {**os.environ, "PYTHONPATH": _PATH})  # noqa: S606

from deploy.local import cluster as local_cluster

REPO = Path(__file__).resolve().parents[1]
IDEMPOTENT = ("GET", "PUT", "DELETE", "HEAD")
TASK_LINE = re.compile(
    rb"Task apps\.photos\.tasks\.process_photo\[([0-9a-f-]+)\] (received|succeeded|failed|retry)"
)

VERIFY_SCRIPT = r"""
import json, os
from django.db.models import Count
from apps.photos import imaging, storage
from apps.photos.models import Photo, Rendition

names = json.loads(os.environ["SCENARIO_USERS"])
photos = []
for photo in Photo.objects.filter(owner__username__in=names).select_related("owner"):
    renditions = list(photo.renditions.values_list("width", "format", "storage_key"))
    photos.append({
        "id": photo.pk, "owner": photo.owner.username, "sha256": photo.sha256,
        "status": photo.status, "width": photo.width,
        "expected_widths": imaging.rendition_widths(photo.width) if photo.width else [],
        "renditions": [[w, f] for w, f, _ in renditions],
        "keys": [k for _, _, k in renditions],
    })
duplicates = list(
    Photo.objects.filter(owner__username__in=names).values("owner", "sha256")
    .annotate(n=Count("id")).filter(n__gt=1).values_list("sha256", flat=True)
)
keys = {f"r/{k}" for k in Rendition.objects.values_list("storage_key", flat=True)}
bucket = storage.renditions().bucket
stored = {item.key for item in bucket.objects.filter(Prefix="r/")}
print("RESULT " + json.dumps({
    "photos": photos, "duplicates": duplicates,
    "missing_objects": sorted(keys - stored), "orphan_objects": sorted(stored - keys),
}))
"""

USERS_SCRIPT = r"""
import json, os
from apps.accounts.models import User
from apps.accounts.services import api_token_create

tokens = {}
for name in json.loads(os.environ["SCENARIO_USERS"]):
    user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
    tokens[name] = api_token_create(user=user, name="cluster scenario")[1]
print("RESULT " + json.dumps(tokens))
"""


# --------------------------------------------------------------------------------------------
# Configuration and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """The bounds of one run."""

    users: int = 4
    uploads: int = 30
    large_every: int = 5  # every n-th upload is a 12 MP photo
    browsers: int = 3
    max_requests: int = 5000
    max_load_seconds: float = 70.0
    min_load_seconds: float = 35.0
    drain_timeout: float = 240.0
    disrupt: bool = True  # False: the same load with nothing killed (the baseline)
    kill_web_at: float = 6.0
    web_down_seconds: float = 4.0
    kill_worker_after: float = 16.0
    seed: int = 20261126


@dataclass
class Sample:
    kind: str
    method: str
    status: int  # 0: no answer (connection error)
    seconds: float


@dataclass
class Event:
    at: float
    what: str


@dataclass
class Result:
    """What one run measured and checked."""

    environment: dict[str, str]
    config: dict[str, Any]
    load_seconds: float = 0.0
    requests: int = 0
    requests_by_kind: dict[str, int] = field(default_factory=dict)
    idempotent_requests: int = 0
    idempotent_failures: int = 0
    idempotent_failure_detail: list[str] = field(default_factory=list)
    cut_off: int = 0  # idempotent answers cut off by the kill, repeated once by the client
    cut_off_detail: list[str] = field(default_factory=list)
    upload_attempts: int = 0
    upload_failures: int = 0  # non-idempotent requests that failed; retried by the client
    upload_failure_detail: list[str] = field(default_factory=list)
    uploads_acknowledged: int = 0
    uploads_unacknowledged: int = 0
    likes: int = 0
    passed_to_another_server: int = 0  # requests nginx retried on another web server
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    p50_ms_by_kind: dict[str, float] = field(default_factory=dict)
    p99_ms_by_kind: dict[str, float] = field(default_factory=dict)
    seconds_to_all_ready: float | None = None
    seconds_to_queue_drained: float | None = None
    web_killed_pid: int | None = None
    web_restarted_pid: int | None = None
    worker_killed_pid: int | None = None
    worker_killed_task: str | None = None
    worker_killed_task_finished_by: str | None = None
    worker_restarted_pid: int | None = None
    ready_photos: int = 0
    photos_of_users: int = 0
    acknowledged_not_ready: list[int] = field(default_factory=list)
    wrong_renditions: list[int] = field(default_factory=list)
    duplicate_photos: list[str] = field(default_factory=list)
    missing_objects: int = 0
    orphan_objects: int = 0
    events: list[Event] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0..1) by the nearest-rank method, in milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(share * len(ordered) + 0.999999)))
    return round(ordered[rank - 1] * 1000, 1)


def environment_summary() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu}",
        "python": platform.python_version(),
        "load average before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------


def noisy_jpeg(size: tuple[int, int], rng: random.Random) -> bytes:
    """A photo-like JPEG: smooth random blotches, so it compresses like a real picture."""
    width, height = size
    coarse = (max(1, width // 8), max(1, height // 8))
    image = Image.frombytes("RGB", coarse, rng.randbytes(coarse[0] * coarse[1] * 3))
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


class Scenario:
    """One run against the cluster of ``layout``."""

    def __init__(self, cluster: ModuleType, layout: Any, config: Config) -> None:
        self.cluster = cluster
        self.layout = layout
        self.config = config
        self.url = layout.url
        self.rng = random.Random(config.seed)
        self.samples: list[Sample] = []
        self.failures: list[str] = []
        self.upload_failures: list[str] = []
        self.cut_off: list[str] = []
        self.ready_ids: list[int] = []
        self.acknowledged: dict[int, tuple[str, str]] = {}  # photo id -> (owner, label)
        self.unacknowledged: list[str] = []
        self.events: list[Event] = []
        self.stop = threading.Event()
        self.uploads_done = threading.Event()
        self.started = 0.0
        self.lock = threading.Lock()

    # --- helpers ----------------------------------------------------------------------------

    def now(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def note(self, what: str) -> None:
        self.events.append(Event(self.now(), what))
        print(f"  [{self.now():6.1f}s] {what}", flush=True)

    def manage_json(self, script: str, env: dict[str, str]) -> Any:
        result = self.cluster.manage(self.layout, "shell", "-c", script, env=env)
        line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
        return json.loads(line[len("RESULT ") :])

    def cli(self, *args: str) -> None:
        """``cluster.py`` as a separate process, as a person would run it."""
        subprocess.run(
            [self.cluster.python(), "-m", "deploy.local.cluster",
             "--state-dir", str(self.layout.state_dir), "--port-base", str(self.layout.port_base),
             *args],
            cwd=REPO, check=True, capture_output=True, timeout=180,
        )  # fmt: skip

    def request(
        self, session: requests.Session, kind: str, method: str, path: str, **kwargs: Any
    ) -> requests.Response | None:
        """One request through nginx, timed; an idempotent one cut off mid-answer is repeated.

        nginx passes a request to another web server only while nothing of the answer has
        reached the client; a server killed while writing an answer cuts it off (at most one
        per gunicorn worker).  Repeating such a GET, PUT or DELETE is what any HTTP client
        may do; it is counted apart (``cut_off``), and a second failure is a failure.
        """
        for attempt in (1, 2):
            began = time.monotonic()
            try:
                response = session.request(method, self.url + path, timeout=60, **kwargs)
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as error:  # fmt: skip
                self.samples.append(Sample(kind, method, 0, time.monotonic() - began))
                if method in IDEMPOTENT and attempt == 1:
                    self.cut_off.append(f"{self.now()}s {method} {path} -> {type(error).__name__}")
                    continue
                self.record_failure(kind, method, path, type(error).__name__)
                return None
            except requests.RequestException as error:
                self.samples.append(Sample(kind, method, 0, time.monotonic() - began))
                self.record_failure(kind, method, path, type(error).__name__)
                return None
            self.samples.append(
                Sample(kind, method, response.status_code, time.monotonic() - began)
            )
            if response.status_code >= 400:
                self.record_failure(kind, method, path, str(response.status_code))
            return response
        return None

    def record_failure(self, kind: str, method: str, path: str, why: str) -> None:
        line = f"{self.now()}s {method} {path} -> {why}"
        (self.failures if method in IDEMPOTENT else self.upload_failures).append(line)

    # --- clients ----------------------------------------------------------------------------

    def browse(self, tokens: dict[str, str], number: int) -> None:
        rng = random.Random(self.config.seed + number)
        session = requests.Session()
        names = list(tokens)
        while not self.stop.is_set():
            photo = rng.choice(self.ready_ids) if self.ready_ids else None
            name = rng.choice(names)
            choice = rng.random()
            if choice < 0.12:
                self.request(session, "page", "GET", "/")
            elif choice < 0.22:
                self.request(session, "page", "GET", "/explore/")
            elif choice < 0.34 and photo:
                self.request(session, "page", "GET", f"/p/{photo}/")
            elif choice < 0.42:
                self.request(session, "page", "GET", f"/u/{name}/")
            elif choice < 0.62:
                response = self.request(session, "api-list", "GET", "/api/v1/photos/?page_size=24")
                if response is not None and response.ok:
                    self.remember_ready(response.json()["results"])
            elif choice < 0.72:
                self.request(session, "api-list", "GET", "/api/v1/explore/")
            elif choice < 0.80:
                self.request(
                    session, "api-list", "GET", "/api/v1/feed/",
                    headers={"Authorization": f"Token {tokens[name]}"},
                )  # fmt: skip
            elif photo:
                self.request(session, "api-detail", "GET", f"/api/v1/photos/{photo}/")
            else:
                self.request(session, "api-detail", "GET", f"/api/v1/users/{name}/")
            time.sleep(0.02)

    def remember_ready(self, photos: list[dict[str, Any]]) -> None:
        with self.lock:
            known = set(self.ready_ids)
            self.ready_ids.extend(
                p["id"] for p in photos if p["status"] == "ready" and p["id"] not in known
            )

    def like(self, tokens: dict[str, str]) -> None:
        rng = random.Random(self.config.seed - 1)
        session = requests.Session()
        while not self.stop.is_set():
            if self.ready_ids:
                name = rng.choice(list(tokens))
                method = "PUT" if rng.random() < 0.8 else "DELETE"
                self.request(
                    session, "like", method, f"/api/v1/photos/{rng.choice(self.ready_ids)}/like/",
                    headers={"Authorization": f"Token {tokens[name]}"},
                )  # fmt: skip
            time.sleep(0.15)

    def upload(self, work: list[tuple[str, str, bytes]], tokens: dict[str, str]) -> None:
        session = requests.Session()
        pause = self.config.min_load_seconds * 0.8 / max(1, len(work))
        for owner, label, data in work:
            if self.stop.is_set():
                self.unacknowledged.append(label)
                continue
            for attempt in range(8):
                response = self.request(
                    session, "upload", "POST", "/api/v1/photos/",
                    headers={"Authorization": f"Token {tokens[owner]}"},
                    files={"image": (f"{label}.jpg", data, "image/jpeg")},
                    data={"caption": f"cluster scenario {label}"},
                )  # fmt: skip
                if response is not None and response.status_code in (200, 201):
                    with self.lock:
                        self.acknowledged[response.json()["id"]] = (owner, label)
                    break
                if response is not None and response.status_code < 500:
                    self.unacknowledged.append(label)  # refused: a bug, reported
                    break
                time.sleep(0.5 * (attempt + 1))
            else:
                self.unacknowledged.append(label)
            time.sleep(pause)

    # --- disruptions ------------------------------------------------------------------------

    def kill_group(self, name: str) -> int:
        pid = self.cluster.part_pid(self.layout, name)
        assert pid is not None, f"{name} is not running"
        os.killpg(pid, signal.SIGKILL)
        return int(pid)

    def in_flight(self, log: Path, offset: int) -> tuple[set[str], set[str]]:
        """Task ids of process_photo received and finished in ``log`` after ``offset``."""
        with open(log, "rb") as handle:
            handle.seek(offset)
            text = handle.read()
        received: set[str] = set()
        finished: set[str] = set()
        for task, state in TASK_LINE.findall(text):
            (received if state == b"received" else finished).add(task.decode())
        return received - finished, finished

    def kill_worker_mid_task(self, result: Result) -> None:
        """SIGKILL images-1 while a process_photo task runs on it; start it again."""
        log = self.layout.log("images-1")
        for _attempt in range(3):
            offset = log.stat().st_size
            deadline = time.monotonic() + 30
            running: set[str] = set()
            while time.monotonic() < deadline:
                running, _ = self.in_flight(log, offset)
                if running:
                    time.sleep(0.1)  # from received to running in the pool process
                    running, _ = self.in_flight(log, offset)
                    if running:
                        break
                time.sleep(0.02)
            if not running:
                self.note("images-1 had no photo in flight for 30 s; trying again")
                continue
            pid = self.kill_group("images-1")
            time.sleep(0.3)  # anything still buffered reaches the log
            still, _ = self.in_flight(log, offset)
            killed = running & still
            if killed:
                result.worker_killed_pid = pid
                result.worker_killed_task = sorted(killed)[0]
                self.note(f"SIGKILL images-1 (pid {pid}) with task {result.worker_killed_task}")
                time.sleep(2)
                self.cli("start", "images-1")
                result.worker_restarted_pid = self.cluster.part_pid(self.layout, "images-1")
                self.note(f"images-1 started again (pid {result.worker_restarted_pid})")
                return
            self.note("the task finished just before the kill; starting images-1 and again")
            self.cli("start", "images-1")

    def disrupt(self, result: Result) -> None:
        config = self.config
        time.sleep(max(0.0, config.kill_web_at - self.now()))
        result.web_killed_pid = self.kill_group("web-2")
        self.note(f"SIGKILL web-2 (gunicorn master and workers, pid {result.web_killed_pid})")
        time.sleep(config.web_down_seconds)
        self.cli("start", "web-2")
        result.web_restarted_pid = self.cluster.part_pid(self.layout, "web-2")
        self.note(f"web-2 started again (pid {result.web_restarted_pid})")
        time.sleep(max(0.0, config.kill_worker_after - self.now()))
        self.kill_worker_mid_task(result)

    # --- draining and checking ----------------------------------------------------------------

    def queue_depth(self, broker_url: str) -> int:
        from kombu import Connection

        with Connection(broker_url, connect_timeout=5) as connection:
            declared = connection.default_channel.queue_declare(queue="images", passive=True)
            return int(declared.message_count)

    def drain(self, tokens: dict[str, str], result: Result, broker_url: str) -> None:
        """Wait until every acknowledged upload is ready with AVIF too, and the queue is empty."""
        session = requests.Session()
        drain_started = time.monotonic()
        deadline = drain_started + self.config.drain_timeout
        wanted = set(self.acknowledged)
        while time.monotonic() < deadline:
            ready, complete = set(), set()
            for name, token in tokens.items():
                response = session.get(
                    f"{self.url}/api/v1/photos/?owner={name}&page_size=100",
                    headers={"Authorization": f"Token {token}"}, timeout=30,
                )  # fmt: skip
                if not response.ok:
                    continue
                for photo in response.json()["results"]:
                    ready.add(photo["id"])
                    if any(r["format"] == "avif" for r in photo["renditions"]):
                        complete.add(photo["id"])
            elapsed = round(time.monotonic() - drain_started, 1)
            if result.seconds_to_all_ready is None and wanted <= ready:
                result.seconds_to_all_ready = elapsed
                self.note(f"every acknowledged upload is ready ({len(wanted)})")
            if wanted <= complete and self.queue_depth(broker_url) == 0:
                result.seconds_to_queue_drained = elapsed
                self.note("images queue drained (AVIF renditions done)")
                return
            time.sleep(0.5)
        self.note("the queue did not drain in time")

    def finished_by(self, task: str, offsets: dict[str, int]) -> str | None:
        for name, offset in offsets.items():
            _, finished = self.in_flight(self.layout.log(name), offset)
            if task in finished:
                return name
        return None

    def verify(self, names: list[str], result: Result) -> None:
        report = self.manage_json(VERIFY_SCRIPT, {"SCENARIO_USERS": json.dumps(names)})
        photos = {photo["id"]: photo for photo in report["photos"]}
        result.photos_of_users = len(photos)
        result.ready_photos = sum(1 for p in photos.values() if p["status"] == "ready")
        result.duplicate_photos = report["duplicates"]
        result.missing_objects = len(report["missing_objects"])
        result.orphan_objects = len(report["orphan_objects"])
        for photo_id in sorted(self.acknowledged):
            photo = photos.get(photo_id)
            if photo is None or photo["status"] != "ready":
                result.acknowledged_not_ready.append(photo_id)
                continue
            expected = sorted(
                [w, f] for w in photo["expected_widths"] for f in ("avif", "jpeg", "webp")
            )
            if sorted(photo["renditions"]) != expected:
                result.wrong_renditions.append(photo_id)

    # --- everything -------------------------------------------------------------------------

    def run(self) -> Result:
        config = self.config
        result = Result(environment=environment_summary(), config=asdict(config))
        run_id = f"{int(time.time()):x}"
        names = [f"load{run_id}u{i}" for i in range(config.users)]
        tokens = self.manage_json(USERS_SCRIPT, {"SCENARIO_USERS": json.dumps(names)})
        work = []
        for index in range(config.uploads):
            large = index % config.large_every == config.large_every - 1
            size = (4000, 3000) if large else (1024, 768)
            label = f"{'large' if large else 'small'}-{index}"
            work.append((names[index % len(names)], label, noisy_jpeg(size, self.rng)))
        broker_url = self.cluster.app_environment(self.layout)["CELERY_BROKER_URL"]
        offsets = {name: self.layout.log(name).stat().st_size for name in ("images-1", "images-2")}
        nginx_offset = self.layout.log("nginx").stat().st_size
        print(f"load through {self.url}: {config.uploads} uploads, {config.browsers} browsers, "
              f"1 liker, users {names[0]}..", flush=True)  # fmt: skip

        self.started = time.monotonic()
        threads = [
            threading.Thread(target=self.browse, args=(tokens, n), daemon=True)
            for n in range(config.browsers)
        ]
        threads.append(threading.Thread(target=self.like, args=(tokens,), daemon=True))
        halves = [work[0::2], work[1::2]]
        uploaders = [
            threading.Thread(target=self.upload, args=(half, tokens), daemon=True)
            for half in halves
        ]
        disruptor = threading.Thread(target=self.disrupt, args=(result,), daemon=True)
        for thread in [*threads, *uploaders, *([disruptor] if config.disrupt else [])]:
            thread.start()
        while True:
            elapsed = time.monotonic() - self.started
            uploads_over = not any(t.is_alive() for t in uploaders)
            if elapsed > config.max_load_seconds or len(self.samples) >= config.max_requests:
                break
            if uploads_over and not disruptor.is_alive() and elapsed >= config.min_load_seconds:
                break  # (a disruptor never started is not alive either)
            time.sleep(0.1)
        self.stop.set()
        for thread in [*threads, *uploaders]:
            thread.join(timeout=70)
        if config.disrupt:
            disruptor.join(timeout=120)
        result.load_seconds = round(time.monotonic() - self.started, 1)
        self.note(f"load over: {len(self.samples)} requests")

        self.drain(tokens, result, broker_url)
        if result.worker_killed_task:
            result.worker_killed_task_finished_by = self.finished_by(
                result.worker_killed_task, offsets
            )
        self.verify(names, result)
        self.summarise(result)
        result.passed_to_another_server = self.retried_by_nginx(nginx_offset)
        return result

    def retried_by_nginx(self, offset: int) -> int:
        """Access log lines naming more than one upstream: nginx tried another web server."""
        with open(self.layout.log("nginx"), "rb") as handle:
            handle.seek(offset)
            return sum(1 for line in handle if re.search(rb" upstream=\S+, ", line))

    def summarise(self, result: Result) -> None:
        samples = list(self.samples)
        result.requests = len(samples)
        result.requests_by_kind = dict(Counter(s.kind for s in samples))
        idempotent = [s for s in samples if s.method in IDEMPOTENT]
        result.idempotent_requests = len(idempotent)
        result.idempotent_failures = len(self.failures)
        result.idempotent_failure_detail = self.failures[:20]
        result.cut_off = len(self.cut_off)
        result.cut_off_detail = self.cut_off[:20]
        result.upload_attempts = sum(1 for s in samples if s.kind == "upload")
        result.upload_failures = len(self.upload_failures)
        result.upload_failure_detail = self.upload_failures[:20]
        result.uploads_acknowledged = len(self.acknowledged)
        result.uploads_unacknowledged = len(self.unacknowledged)
        result.likes = result.requests_by_kind.get("like", 0)
        result.p50_ms = percentile([s.seconds for s in samples], 0.50)
        result.p99_ms = percentile([s.seconds for s in samples], 0.99)
        for kind in sorted(result.requests_by_kind):
            seconds = [s.seconds for s in samples if s.kind == kind]
            result.p50_ms_by_kind[kind] = percentile(seconds, 0.50)
            result.p99_ms_by_kind[kind] = percentile(seconds, 0.99)
        result.events = self.events


def format_result(result: Result) -> str:
    """A Markdown summary of ``result``."""
    env = result.environment
    lines = [
        f"- environment: {env['machine']}; Python {env['python']}; {env['date']}; "
        f"load average before {env['load average before']}",
        f"- load: {result.load_seconds} s, {result.requests} requests "
        f"({', '.join(f'{k} {v}' for k, v in sorted(result.requests_by_kind.items()))})",
        f"- failed idempotent requests (GET, PUT, DELETE): {result.idempotent_failures} "
        f"of {result.idempotent_requests}; answers cut off mid-body by the kill and repeated "
        f"by the client: {result.cut_off}",
        f"- uploads: {result.upload_attempts} attempts, {result.upload_failures} failed and "
        f"retried, {result.uploads_acknowledged} acknowledged, "
        f"{result.uploads_unacknowledged} never acknowledged",
        f"- requests nginx passed to another web server: {result.passed_to_another_server}",
        f"- latency, all requests: p50 {result.p50_ms} ms, p99 {result.p99_ms} ms",
    ]
    for kind in sorted(result.p50_ms_by_kind):
        lines.append(
            f"  - {kind}: p50 {result.p50_ms_by_kind[kind]} ms, "
            f"p99 {result.p99_ms_by_kind[kind]} ms"
        )
    lines += [
        f"- after the load: every acknowledged upload ready in {result.seconds_to_all_ready} s, "
        f"images queue drained (AVIF too) in {result.seconds_to_queue_drained} s",
        f"- check: {result.ready_photos} ready photos of {result.photos_of_users} for "
        f"{result.uploads_acknowledged} acknowledged uploads; not ready "
        f"{result.acknowledged_not_ready}, wrong renditions {result.wrong_renditions}, "
        f"duplicates {result.duplicate_photos}, objects missing {result.missing_objects}, "
        f"orphaned {result.orphan_objects}",
    ]
    if result.web_killed_pid is not None:
        lines += [
            f"- web-2 SIGKILLed (pid {result.web_killed_pid}), started again "
            f"(pid {result.web_restarted_pid})",
            f"- images-1 SIGKILLed (pid {result.worker_killed_pid}) during task "
            f"{result.worker_killed_task}; that task finished on "
            f"{result.worker_killed_task_finished_by}",
        ]
    return "\n".join(lines)


def comparison(baseline: Result, disrupted: Result) -> str:
    """The disrupted run next to the baseline, as a Markdown table."""
    rows = [
        ("requests", "requests", ""),
        ("failed idempotent requests", "idempotent_failures", ""),
        ("failed uploads (retried)", "upload_failures", ""),
        ("p50, all requests", "p50_ms", " ms"),
        ("p99, all requests", "p99_ms", " ms"),
        ("all acknowledged uploads ready after the load", "seconds_to_all_ready", " s"),
        ("images queue drained after the load", "seconds_to_queue_drained", " s"),
    ]
    lines = ["| | baseline (nothing killed) | web-2 and images-1 killed |", "|---|---:|---:|"]
    for label, key, unit in rows:
        lines.append(
            f"| {label} | {getattr(baseline, key)}{unit} | {getattr(disrupted, key)}{unit} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--state-dir", help="the cluster's state directory (cluster.py default)")
    parser.add_argument("--port-base", type=int, help="the cluster's port base")
    parser.add_argument("--uploads", type=int, default=Config.uploads)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run with nothing killed"
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    cluster = local_cluster
    layout = cluster.layout(args.state_dir, args.port_base)
    if not all(row["alive"] for row in cluster.status(layout)):
        print(
            "the cluster is not (fully) up: run python -m deploy.local.cluster up", file=sys.stderr
        )
        return 1
    results = {}
    if not args.no_baseline:
        print("baseline: the same load, nothing killed")
        results["baseline"] = Scenario(
            cluster, layout, Config(uploads=args.uploads, disrupt=False)
        ).run()
        print(format_result(results["baseline"]))
    print("disrupted: web-2 and images-1 killed during the load")
    disrupted = results["disrupted"] = Scenario(cluster, layout, Config(uploads=args.uploads)).run()
    print(format_result(disrupted))
    if "baseline" in results:
        print(comparison(results["baseline"], disrupted))
    if args.json:
        args.json.write_text(
            json.dumps({k: asdict(v) for k, v in results.items()}, indent=2, default=str)
        )
    ok = all(
        result.idempotent_failures == 0
        and not result.acknowledged_not_ready
        and not result.wrong_renditions
        and not result.duplicate_photos
        and result.missing_objects == 0
        and result.ready_photos == result.uploads_acknowledged
        for result in results.values()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
