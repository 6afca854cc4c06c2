"""Periodic experiment work (queue ``default``): thin shims over the services."""

from celery import shared_task


@shared_task
def flush_experiment_events() -> int:
    """Periodic: move queued exposures and conversion events to the experiments database."""
    from . import buffer

    return buffer.flush()


@shared_task
def recompute_experiment_results() -> int:
    """Periodic: stop experiments past their end and recompute the results of live ones."""
    from .analysis import experiments_results_refresh

    return experiments_results_refresh()
