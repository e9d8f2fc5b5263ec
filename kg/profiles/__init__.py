"""User-interest profiles: interest scores with time decay, segments, recommendations with reasons,
and an honest evaluation against strong baselines.

One library call per command (:mod:`kg.profiles.workflow`): :func:`compute_profiles` (``kg profiles``),
:func:`user_profile` (``kg profile``), :func:`user_recommendations` (``kg recommend``) and
:func:`evaluate_recommendations` (``kg eval recommend``), and :func:`update_profiles` (``kg update``,
:mod:`kg.profiles.incremental`); both run one pipeline (:mod:`kg.profiles.pipeline`). The package reads the graph
and the event ledger through the foundation (``kg``) and learned vectors through ``embeddings``; it never imports
``ingest``.
"""

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
