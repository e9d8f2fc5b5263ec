"""One typed settings object, read from ``KG_*`` environment variables (and ``.env``).

Build it once (the CLI does) and pass it down; library code never reads the environment.

>>> Settings(home="/tmp/kg-demo").runs_dir
PosixPath('/tmp/kg-demo/runs')
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Configuration of a kg installation. Every field is ``KG_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="KG_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".kg"), description="State folder: embedded database, keys, runs, quarantine.")
    graph: str = Field(default="kg", description="Graph name on the embedded FalkorDB server.")
    neo4j_uri: str | None = Field(default=None, description="bolt:// or neo4j:// URI; when set, Neo4j is used.")
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"
    neo4j_bolt_port: int = Field(
        default=7687,
        ge=1,
        le=65535,
        description="Bolt port of a local Neo4j (`kg db start --backend neo4j`) when KG_NEO4J_URI does not name one.",
    )
    neo4j_http_port: int = Field(
        default=7474, ge=1, le=65535, description="HTTP port (Neo4j Browser) of a local Neo4j."
    )
    neo4j_heap: str = Field(default="1g", pattern=r"^[0-9]+[kmgKMG]?$", description="JVM heap of a local Neo4j.")
    neo4j_pagecache: str = Field(
        default="512m", pattern=r"^[0-9]+[kmgKMG]?$", description="Page cache of a local Neo4j."
    )
    explore_port: int = Field(
        default=7475,
        ge=1,
        le=65535,
        description="Port `kg explore` serves on: a local Neo4j's Browser opens its guide.",
    )
    serve_port: int = Field(
        default=7476,
        ge=1,
        le=65535,
        description="Port `kg serve` listens on (events in, recommendations out).",
    )
    falkordb_url: str | None = Field(
        default=None, description="redis:// URL of an external FalkorDB; when unset kg runs its own server in KG_HOME."
    )
    falkordb_port: int = Field(default=0, description="TCP port for the embedded server (0 = unix socket only).")
    pseudonym_key: SecretStr | None = Field(
        default=None, description="HMAC key for user ids; generated once into KG_HOME when unset."
    )
    batch_size: int = Field(default=5000, ge=1, le=100_000, description="Rows per UNWIND write.")
    max_bad_ratio: float = Field(default=0.01, ge=0.0, le=1.0)
    spacy_model: str | None = Field(default=None, description="Installed spaCy pipeline to use for reviews.")
    writer_wait: float | None = Field(
        default=None,
        ge=0,
        description="Seconds a writer waits for another writer of the same graph (unset: as long "
        "as it takes; 0: fail at once with exit 4).",
    )
    quarantine_raw_days: int = Field(
        default=7,
        ge=0,
        le=3650,
        description="Days to keep untouched bad rows (owner-only, KG_HOME/quarantine/raw); 0 = never keep them.",
    )
    spark_master: str = Field(
        default="local[2]",
        min_length=1,
        description="Spark master of `kg profiles --engine spark` (local[N], spark://host:port, yarn, ...).",
    )
    spark_driver_memory: str = Field(
        default="1g", pattern=r"^[0-9]+[kmgKMG]?$", description="Driver memory of `kg profiles --engine spark`."
    )
    text_route: Literal["template", "local", "endpoint"] = Field(
        default="template",
        description="Who writes profile texts, segment names and reasons: the template (no model), a local GGUF "
        "model (the 'text' extra), or an OpenAI-compatible endpoint.",
    )
    text_model_path: Path | None = Field(
        default=None, description="GGUF file of the local route (unset: the packaged SmolLM2-135M-Instruct)."
    )
    text_endpoint_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible API, e.g. http://localhost:11434/v1 (Ollama)."
    )
    text_endpoint_model: str | None = Field(default=None, description="Model name the endpoint serves.")
    text_endpoint_key_env: str = Field(
        default="KG_TEXT_API_KEY",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the endpoint's API key (unset or empty: no key is sent).",
    )
    text_debug: bool = Field(default=False, description="Log prompts and completions (never raw ids).")
    log_level: str = "WARNING"

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def backend(self) -> str:
        """``neo4j`` when a Neo4j URI is configured, else ``falkordb``."""
        return "neo4j" if self.neo4j_uri else "falkordb"

    @property
    def db_dir(self) -> Path:
        return self.home / "db"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def ledger_path(self) -> Path:
        return self.home / "ledger" / f"{self.neo4j_database if self.neo4j_uri else self.graph}.sqlite3"

    @property
    def lake_dir(self) -> Path:
        """``KG_HOME/lake/<graph>``: the graph's Parquet mirrors (``kg lake sync``), named as its ledger."""
        return self.home / "lake" / self.ledger_path.stem
