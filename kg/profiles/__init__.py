"""User-interest profiles: interest scores with time decay, segments, recommendations with reasons,
and an honest evaluation against strong baselines.

One library call per command (:mod:`kg.profiles.workflow`): :func:`compute_profiles` (``kg profiles``),
:func:`user_profile` (``kg profile``), :func:`user_recommendations` (``kg recommend``) and
:func:`evaluate_recommendations` (``kg eval recommend``), and :func:`update_profiles` (``kg update``,
:mod:`kg.profiles.incremental`); both run one pipeline (:mod:`kg.profiles.pipeline`). The package reads the graph
and the event ledger through the foundation (``kg``) and learned vectors through ``embeddings``; it never imports
``ingest``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kg.profiles.incremental import UpdateReport, update_profiles
    from kg.profiles.workflow import (
        ProfileReport,
        ProfilesReport,
        RecommendReport,
        compute_profiles,
        evaluate_recommendations,
        user_profile,
        user_recommendations,
    )

#: where each name lives: imported on first use, so that ``kg update`` (incremental) does not pay for
#: scikit-learn and the rest of ``kg profiles`` (workflow)
_HOME = {
    "ProfileReport": "workflow",
    "ProfilesReport": "workflow",
    "RecommendReport": "workflow",
    "compute_profiles": "workflow",
    "evaluate_recommendations": "workflow",
    "user_profile": "workflow",
    "user_recommendations": "workflow",
    "UpdateReport": "incremental",
    "update_profiles": "incremental",
}

__all__ = [
    "ProfileReport",
    "ProfilesReport",
    "RecommendReport",
    "compute_profiles",
    "evaluate_recommendations",
    "user_profile",
    "user_recommendations",
    "UpdateReport",
    "update_profiles",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
