"""``kg serve``: behaviour as it happens. Events arrive over HTTP (``POST /events``) or from a Kafka topic,
are written in micro-batches the way ``kg ingest`` + ``kg update`` write them (:mod:`kg.service.intake`), and
a shop's front end reads recommendations, profiles and similar products over HTTP (:mod:`kg.service.app`).

>>> service = build_service(Settings(home="/tmp/kg-doc"), token="...")   # doctest: +SKIP
>>> uvicorn.run(create_app(service), host="127.0.0.1", port=7476)       # doctest: +SKIP
"""

from __future__ import annotations

from kg.service.assembly import KafkaOptions, build_service

__all__ = ["build_service", "KafkaOptions"]
