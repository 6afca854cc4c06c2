"""Each Celery task routes like a fresh request: no pin leaks in or out."""

from pinstablr.celery import app
from pinstablr.db import state as routing


@app.task(name="tests.routing_state_inside_task")
def routing_state_inside_task() -> dict[str, object]:
    current = routing.current()
    seen = {"wrote": current.wrote, "primary_only": current.primary_only}
    current.wrote = True  # the task writes; that must not leak into whatever runs next
    return seen


def test_a_task_starts_unpinned_and_leaves_the_caller_as_it_was():
    with routing.routing_scope(routing.RoutingState(wrote=True, primary_only=True)) as outer:
        inside = routing_state_inside_task.apply().get()
        assert routing.current() is outer
        assert outer.wrote is True
    assert inside == {"wrote": False, "primary_only": False}
