"""Request ids: taken from our proxy or made up, answered, and on every log line."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.utils.module_loading import import_string

from pinstablr.observability.context import current_request_id
from pinstablr.observability.logs import RequestIdFilter, logging_config

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.pinstablr.observability_app")]

NGINX_STYLE_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def behind_one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Every record as the console handler sees it: through the request id filter."""
    collector = Collector()
    collector.addFilter(RequestIdFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        yield collector.records
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)


def lines_of(records: list[logging.LogRecord], logger: str) -> list[logging.LogRecord]:
    return [r for r in records if r.name == logger]


def test_the_proxys_id_comes_back_in_the_response_and_on_every_log_line(
    client, behind_one_proxy, records
):
    response = client.get("/run-now?marker=m1", headers={"X-Request-ID": NGINX_STYLE_ID})
    assert response.status_code == 200
    assert response["X-Request-ID"] == NGINX_STYLE_ID
    (task_line,) = [r for r in lines_of(records, "tests.observability") if "m1" in r.getMessage()]
    assert task_line.request_id == NGINX_STYLE_ID
    (request_line,) = lines_of(records, "pinstablr.request")
    assert request_line.request_id == NGINX_STYLE_ID
    assert current_request_id() is None, "the id ends with its request"


def test_without_a_proxy_of_ours_a_clients_id_is_not_believed(client, settings, records):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    response = client.get("/run-now?marker=m2", headers={"X-Request-ID": NGINX_STYLE_ID})
    request_id = response["X-Request-ID"]
    assert request_id != NGINX_STYLE_ID
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert {r.request_id for r in lines_of(records, "pinstablr.request")} == {request_id}


@pytest.mark.parametrize(
    "sent",
    ["short", "x" * 129, "has space inside", "line\nbreak-0123456789", "<script>alert(1)</script>"],
)
def test_a_malformed_id_from_the_proxy_is_replaced(client, behind_one_proxy, sent):
    response = client.get("/run-now?marker=m3", headers={"X-Request-ID": sent})
    assert response["X-Request-ID"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_uuid_from_the_proxy_is_kept(client, behind_one_proxy):
    sent = "6f1c1f0e-6b7d-4c53-9d2e-0d7f3c1b2a99"
    assert client.get("/run-now?marker=m4", headers={"X-Request-ID": sent})["X-Request-ID"] == sent


def test_every_request_gets_its_own_id(client):
    first = client.get("/run-now?marker=a")["X-Request-ID"]
    second = client.get("/run-now?marker=b")["X-Request-ID"]
    assert first != second


def test_the_request_line_says_method_path_status_and_duration(client, records):
    client.get("/no-such-page")
    (line,) = lines_of(records, "pinstablr.request")
    assert (line.method, line.path, line.status) == ("GET", "/no-such-page", 404)
    assert isinstance(line.duration_ms, float)
    assert line.levelno == logging.INFO


def test_probes_are_logged_only_at_debug(client, records, settings):
    settings.ROOT_URLCONF = "pinstablr.urls"
    client.get("/healthz")
    (line,) = lines_of(records, "pinstablr.request")
    assert line.levelno == logging.DEBUG


# --- the JSON format -------------------------------------------------------------------


def json_handler(stream: io.StringIO) -> logging.Handler:
    """A handler built exactly as LOGGING builds production's console handler."""
    config = logging_config(log_format="json", level="INFO")
    spec = dict(config["formatters"]["json"])
    factory = import_string(spec.pop("()"))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**spec))
    for name in config["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(config["filters"][name]["()"])())
    return handler


def test_json_lines_carry_time_level_logger_message_and_request_id(client, behind_one_proxy):
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        client.get("/run-now?marker=json", headers={"X-Request-ID": NGINX_STYLE_ID})
        logging.getLogger("tests.outside").warning("no request here")
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "something was logged"
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    by_logger = {line["logger"]: line for line in lines}
    task = by_logger["tests.observability"]
    assert task["message"] == "task says json"
    assert task["request_id"] == NGINX_STYLE_ID
    assert task["task_name"] == "tests.observability.log_line"
    request = by_logger["pinstablr.request"]
    assert request["level"] == "INFO"
    assert request["request_id"] == NGINX_STYLE_ID
    assert (request["method"], request["path"], request["status"]) == ("GET", "/run-now", 200)
    assert request["duration_ms"] >= 0
    assert by_logger["tests.outside"]["request_id"] == "-"


def test_an_exception_is_one_json_line_too():
    stream = io.StringIO()
    logger = logging.getLogger("tests.exception")
    logger.addHandler(json_handler(stream))
    try:
        try:
            raise ValueError("broken")
        except ValueError:
            logger.exception("it broke")
    finally:
        logger.handlers.clear()
    (line,) = stream.getvalue().splitlines()
    parsed = json.loads(line)
    assert parsed["level"] == "ERROR"
    assert "ValueError: broken" in parsed["exc_info"]


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="PINSTABLR_LOG_FORMAT"):
        logging_config(log_format="xml", level="INFO")
