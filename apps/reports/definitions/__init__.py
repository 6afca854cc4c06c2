"""Every report Pinstablr computes, by key. Importing this package registers them all."""

from . import activity, engagement, pipeline
from .base import REGISTRY, Column, Grain, Layout, ReportDefinition, ResultRow, Window

__all__ = [
    "REGISTRY",
    "Column",
    "Grain",
    "Layout",
    "ReportDefinition",
    "ResultRow",
    "Window",
    "activity",
    "engagement",
    "pipeline",
]
