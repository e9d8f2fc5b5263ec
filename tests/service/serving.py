"""``kg serve`` on a loopback port for the service tests: a real uvicorn in a thread, stopped afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from kg.foundation.settings import Settings
from kg.service import build_service
from kg.service.app import Service, create_app
from kg.store import GraphStore
from kg.store.falkordb_server import free_port

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Served:
    url: str
    settings: Settings
    store: GraphStore
    service: Service


@contextmanager
def serving(settings: Settings, store: GraphStore, **options: Any) -> Iterator[Served]:
    """``kg serve`` on the graph (batches of at most 50 ms wait, 64 KiB bodies unless ``options`` say
    otherwise; ``options`` go to :func:`kg.service.build_service`) on a free loopback port."""
    service = build_service(settings, token=TOKEN, **{"max_wait_s": 0.05, "max_body_bytes": 64 * 1024, **options})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "kg serve did not start"
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", settings, store, service)
    finally:
        server.should_exit = True
        thread.join(30)
