"""compose.yaml, checked without Docker (issue #13: Docker can't run here, so CI checks the
file): it parses, uses only keys the Compose specification knows, every service can be built
or pulled, what it depends on exists, its commands are real `resume` commands with real
flags, its settings are real RESUME_* settings that this version accepts, nothing secret has
a default, and every variable it asks for is in the README.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from resume.settings import SPECS, Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
README = (ROOT / "README.md").read_text()

# The Compose specification's top-level elements, and the service attributes this file may
# reasonably use (compose-spec/compose-spec, spec.md); anything else is a typo Docker would
# refuse, or ignore.
TOP_LEVEL = {"version", "name", "include", "services", "networks", "volumes", "configs", "secrets"}
SERVICE = {
    "build", "command", "configs", "container_name", "depends_on", "deploy", "entrypoint",
    "env_file", "environment", "expose", "extra_hosts", "healthcheck", "hostname", "image",
    "init", "labels", "logging", "networks", "ports", "profiles", "pull_policy", "read_only",
    "restart", "secrets", "stop_grace_period", "stop_signal", "tmpfs", "user", "volumes",
    "working_dir",
}  # fmt: skip
RESTART = {"no", "always", "on-failure", "unless-stopped"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
HEALTHCHECK = {"test", "interval", "timeout", "retries", "start_period", "start_interval"}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
SETTINGS = {spec.env for spec in SPECS}
REQUIRED = {
    "POSTGRES_PASSWORD",
    "RESUME_SECRET_KEYS",
    "RESUME_DATA_KEYS",
    "RESUME_BASE_URL",
    "RESUME_SMTP_URL",
}
# What an operator would put in .env: what the required variables resolve with in these tests.
OPERATOR = {
    "POSTGRES_PASSWORD": "a-long-random-password",
    "RESUME_SECRET_KEYS": "test-signing-key-0123456789",
    "RESUME_DATA_KEYS": "C6tsAFVzcptJlEun0d7cTJHyOhFKkk6gR3rk7rSJS2c=",
    "RESUME_BASE_URL": "https://resume.dealer.example",
    "RESUME_SMTP_URL": "smtp://relay-placeholder:1025",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """compose.yaml as Docker Compose reads it (YAML merge keys resolved)."""
    found = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(found, dict)
    return found


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, as `docker compose` resolves them."""

    def one(match: re.Match[str]) -> str:
        name, how, rest = match.group(1), match.group(2), match.group(3) or ""
        given = env.get(name)
        # With the colon, empty counts as unset.
        unset = not given if how and how.startswith(":") else given is None
        if how in {":?", "?"} and unset:
            raise LookupError(f"{name}: {rest}")
        if how in {":-", "-"} and unset:
            return rest
        return given or ""

    return VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def variables(node: Any) -> list[re.Match[str]]:
    """Every ${VAR...} in the file's values (its comments may show the syntax)."""
    if isinstance(node, dict):
        return [m for key, value in node.items() for m in variables(key) + variables(value)]
    if isinstance(node, list):
        return [m for item in node for m in variables(item)]
    return list(VARIABLE.finditer(node)) if isinstance(node, str) else []


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def test_the_file_uses_only_what_the_compose_specification_knows(compose: dict[str, Any]) -> None:
    unknown = {k for k in compose if k not in TOP_LEVEL and not k.startswith("x-")}
    assert not unknown, unknown
    assert "version" not in compose  # obsolete: Compose warns about it
    services = compose["services"]
    assert {"postgres", "migrate", "web", "worker", "relay-placeholder"} <= set(services)
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert set(service) <= SERVICE, (name, set(service) - SERVICE)
        assert "image" in service or "build" in service, name
        assert str(service.get("restart", "no")) in RESTART, name
        depends = service.get("depends_on") or {}
        for other, how in depends.items() if isinstance(depends, dict) else []:
            assert other in services and other != name, (name, other)
            assert how["condition"] in CONDITIONS, (name, other)
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[other], other
        for other in depends if isinstance(depends, list) else []:
            assert other in services, (name, other)
        if "healthcheck" in service:
            check = service["healthcheck"]
            assert set(check) <= HEALTHCHECK, name
            assert isinstance(check["test"], str) or check["test"][0] in {"CMD", "CMD-SHELL"}
        for volume in service.get("volumes") or []:
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/", "~", "$")):
                assert source in declared_volumes, (name, source)
        for port in service.get("ports") or []:
            # Published on this host's loopback only: the proxy in front is what faces the world.
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_the_server_the_worker_and_the_migrations_run_in_order_on_postgresql(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert any("/var/lib/postgresql/data" in str(v) for v in services["postgres"]["volumes"])
    assert services["migrate"]["command"] == ["resume", "migrate"]
    assert str(services["migrate"]["restart"]) == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["web"]["command"][:3] == ["resume", "serve", "--no-worker"]
    assert services["worker"]["command"] == ["resume", "worker"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    # The same image for each of ours, built from the Dockerfile beside this file.
    assert (ROOT / services["web"]["build"] / "Dockerfile").is_file()
    assert len({services[n]["image"] for n in ("migrate", "web", "worker")}) == 1
    # The relay is a placeholder, and says so where it is defined.
    text = COMPOSE.read_text()
    placeholder = text[: text.index("  relay-placeholder:")].rsplit("\n\n", 1)[-1]
    assert "PLACEHOLDER" in placeholder and "dealer's relay" in placeholder


@pytest.mark.parametrize("service", ["migrate", "web", "worker"])
def test_each_command_is_a_real_resume_command_with_real_flags(
    compose: dict[str, Any], service: str
) -> None:
    command = compose["services"][service]["command"]
    assert command[0] == "resume"
    # The same CLI as the installed `resume`, run from the tree under test; --help last, so
    # argparse has checked every argument before it (an unknown flag it would only report
    # at the end is looked for in the help below).
    shown = subprocess.run(
        [sys.executable, "-m", "resume", *command[1:], "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: resume {command[1]}")
    for flag in (arg for arg in command if arg.startswith("--")):
        assert flag in shown.stdout, flag


def test_every_setting_is_one_this_version_reads_and_accepts(compose: dict[str, Any]) -> None:
    for name in ("migrate", "web", "worker"):
        env = environment(compose["services"][name])
        unknown = {k for k in env if k not in SETTINGS}
        assert not unknown, (name, unknown)
        resolved = {k: interpolate(v, OPERATOR) for k, v in env.items()}
        settings = Settings.from_env(resolved)
        assert settings.database_url.startswith("postgresql+asyncpg://resume:")
        assert settings.database_url.endswith("@postgres:5432/resume")
        assert settings.smtp_url and settings.log_format == "json"
        assert settings.secret_keys == (OPERATOR["RESUME_SECRET_KEYS"],)
    # The server and the worker see the same database and keys as the migrations.
    envs = [environment(compose["services"][n]) for n in ("migrate", "web", "worker")]
    for key in ("RESUME_DATABASE_URL", "RESUME_SECRET_KEYS", "RESUME_DATA_KEYS"):
        assert len({e[key] for e in envs}) == 1, key
    postgres = environment(compose["services"]["postgres"])
    assert postgres["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"


def test_nothing_secret_has_a_default_and_an_unset_one_stops_compose(
    compose: dict[str, Any],
) -> None:
    used = {m.group(1): m.group(2) for m in variables(compose)}
    for name in REQUIRED:
        assert used.get(name) == ":?", (name, used.get(name))
    # Every other variable has a default, so only the required ones need setting.
    assert {n for n, how in used.items() if how != ":-"} == REQUIRED
    env = environment(compose["services"]["web"])
    for missing in REQUIRED:
        with pytest.raises(LookupError, match=missing):
            for value in env.values():
                interpolate(value, {k: v for k, v in OPERATOR.items() if k != missing})
        with pytest.raises(LookupError, match=missing):
            for value in env.values():
                interpolate(value, {**OPERATOR, missing: ""})


def test_every_variable_it_asks_for_is_in_the_readme(compose: dict[str, Any]) -> None:
    names = {m.group(1) for m in variables(compose)}
    assert names >= REQUIRED
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert not missing, f"document these in README.md: {missing}"
    assert "compose.yaml" in README
