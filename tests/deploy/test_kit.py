"""The installation kit (deploy/): the image's install steps run for real in a clean venv (Docker does
not run here), the PostgreSQL set-up script run against the real server, and the compose file, the
systemd unit and the nginx example checked against the bot's own settings."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from bot.config import ENV_OVERRIDES, Config
from tests.conftest import PG_DSN, require_service

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def copied_sources(dockerfile: str) -> list[str]:
    """What the Dockerfile copies into the image (``COPY a b ./`` and ``COPY src dest``)."""
    out: list[str] = []
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            parts = line.split()[1:]
            out.extend(parts[:-1])
    return out


def test_the_image_steps_build_a_working_bot(tmp_path: Path) -> None:
    """deploy/build.sh, as the Dockerfile runs it, on a copy of exactly what the Dockerfile copies."""
    app = tmp_path / "app"
    for source in copied_sources((DEPLOY / "Dockerfile").read_text()):
        src, dest = ROOT / source, app / source
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(src, dest)
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    build = subprocess.run(["sh", str(app / "deploy" / "build.sh"), str(venv), str(app)], env=env,
                           capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    frozen = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "freeze", "--exclude-editable"], env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    pinned = [ln for ln in (ROOT / "requirements.lock").read_text().splitlines() if ln and not ln.startswith("#")]
    assert sorted(frozen, key=str.lower) == sorted(pinned, key=str.lower)  # exactly the lock, nothing resolved anew
    run_env = {**env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"}
    for args in (["db", "upgrade"], ["check"], ["units", "import", "data/quang_ninh_units.csv", "--period", "pre2025"]):
        proc = subprocess.run([str(venv / "bin" / "python"), "-m", "bot", *args], cwd=app, env=run_env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    assert "database: ok" in subprocess.run([str(venv / "bin" / "python"), "-m", "bot", "check"], cwd=app,
                                            env=run_env, capture_output=True, text=True).stdout


def test_the_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert re.search(r"^USER bot$", text, re.M) and "useradd --system" in text  # not root
    assert "RUN sh deploy/build.sh /opt/venv /app" in text
    copied = set(copied_sources(text))
    for package in ("bot", "handlers", "models", "reports", "texts", "migrations", "scheduler.py",
                    "requirements.lock", "pyproject.toml", "deploy/build.sh"):
        assert package in copied, package
    assert "db upgrade" in text and "python -m bot run" in text and "/healthz" in text


def _env_names(text: str) -> set[str]:
    return set(re.findall(r"^\s+([A-Z][A-Z_]+): ", text, re.M)) | set(re.findall(r"\b([A-Z][A-Z_]+)=", text))


def test_compose_and_systemd_set_only_settings_the_bot_reads() -> None:
    compose = (DEPLOY / "compose.yaml").read_text()
    bot_part = compose.split("\n  bot:\n", 1)[1].split("\n  nginx:\n", 1)[0]
    names = _env_names(bot_part)
    assert {"DATABASE_URL", "TELEGRAM_MODE", "ZALO_MODE", "WEB_PUBLIC_URL", "WEB_CHAT_ENABLED"} <= names
    assert names <= set(ENV_OVERRIDES), names - set(ENV_OVERRIDES)
    assert "TELEGRAM_MODE: webhook" in bot_part and "condition: service_healthy" in bot_part
    assert all(f"\n  {s}:\n" in compose for s in ("postgres", "bot", "nginx"))
    example = _env_names((DEPLOY / "env.example").read_text()) - {"PUBLIC_HOST", "POSTGRES_PASSWORD"}
    assert example <= set(ENV_OVERRIDES), example - set(ENV_OVERRIDES)

    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "village-report-bot.service")
    service = unit["Service"]
    assert service["User"] not in ("root", "") and service["ExecStart"].endswith("-m bot run --log-format json")
    assert service["ExecStartPre"].endswith("-m bot db upgrade") and service["Restart"] == "on-failure"
    assert _env_names(service["Environment"]) <= set(ENV_OVERRIDES) | {"PYTHONUNBUFFERED"}
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_nginx_serves_the_bots_paths_over_https() -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    defaults = Config()
    for path in (defaults.telegram.webhook_path, defaults.zalo.webhook_path):
        assert f"location = {path} " in text, path
    assert f"location {defaults.zalo.files_path}/ " in text
    assert "listen 443 ssl;" in text and "return 301 https://" in text
    assert re.search(r"location = /metrics \{[^}]*deny all;", text)
    assert f"client_max_body_size {12}m" in text  # a 10 MB photo fits


def test_the_postgres_role_and_database_script(tmp_path: Path) -> None:
    """deploy/postgres-setup.sql as the guide runs it (names made unique), then the schema as that role."""
    psql = shutil.which("psql")
    require_service(psql is not None, "psql is not installed")
    assert psql is not None
    name = f"vb_{uuid.uuid4().hex[:8]}"
    script = tmp_path / "setup.sql"
    script.write_text((DEPLOY / "postgres-setup.sql").read_text().replace("villagebot", name))
    admin = PG_DSN.rsplit("/", 1)[0] + "/postgres"
    try:
        done = subprocess.run([psql, admin, "-v", "ON_ERROR_STOP=1", "-v", "password='secret-pw'", "-f", str(script)],
                              capture_output=True, text=True, check=False)
        require_service("could not connect" not in done.stderr, f"PostgreSQL does not answer at {PG_DSN}")
        assert done.returncode == 0, done.stderr
        host = PG_DSN.split("@", 1)[1].rsplit("/", 1)[0]
        url = f"postgresql+asyncpg://{name}:secret-pw@{host}/{name}"
        upgrade = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=ROOT,
                                 env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
                                 capture_output=True, text=True, check=False)
        assert upgrade.returncode == 0, upgrade.stderr
    finally:
        subprocess.run([psql, admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True,
                       check=False)
        subprocess.run([psql, admin, "-c", f'DROP ROLE IF EXISTS "{name}"'], capture_output=True, check=False)
