"""Shared fixtures: real databases (SQLite and a throwaway PostgreSQL), settings, the CLI.

Every test that takes ``db`` runs twice, once per database. PostgreSQL tests skip only when
the server binaries are missing outside CI; in CI (CI=true) a missing server fails the run.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from support.pgcluster import Cluster, ClusterUnavailableError, start_cluster

import gimark.core.engines
from gimark.core.db import Database
from gimark.core.migrate import upgrade
from gimark.core.settings import Settings

PASSPHRASE = "correct horse battery staple"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_counter = itertools.count()


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        cluster = start_cluster()
    except ClusterUnavailableError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        with cluster.admin() as conn:
            conn.execute("CREATE DATABASE gimark_template")
        template = Database(cluster.url("gimark_template"))
        upgrade(template)
        template.dispose()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "gimark.sqlite3"
    template = Database(f"sqlite:///{path}")
    upgrade(template)
    template.dispose()
    return path


def _fresh_postgres(cluster: Cluster) -> Iterator[Database]:
    name = f"gimark_test_{os.getpid()}_{next(_counter)}"
    with cluster.admin() as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE gimark_template")
    database = Database(cluster.url(name))
    try:
        yield database
    finally:
        database.dispose()
        with cluster.admin() as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _fresh_sqlite(template: Path, folder: Path) -> Iterator[Database]:
    path = folder / "gimark.sqlite3"
    shutil.copyfile(template, path)
    database = Database(f"sqlite:///{path}")
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database of each kind, fresh for the test."""
    if request.param == "postgresql":
        yield from _fresh_postgres(request.getfixturevalue("pg_cluster"))
    else:
        yield from _fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)


@pytest.fixture
def server_restart(db: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Kill every connection of ``db``'s pools, as a restart of the server would.

    Pooled connections are not pinged before use in the test, so the next statement on each
    finds it dead. PostgreSQL only.
    """
    if db.dialect != "postgresql":
        pytest.skip("only a server connection can die in the pool")
    monkeypatch.setattr(gimark.core.engines, "IDLE_BEFORE_PING", 3600.0)

    def restart() -> None:
        url = db.engine.url
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
        ) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    return restart


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """One transaction for the test body, committed at the end."""
    with db.session() as s:
        yield s


# --- settings and the CLI --------------------------------------------------------------------


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    home.mkdir()
    return Settings(home=home, database_url=db.url, key_passphrase=PASSPHRASE)


def settings_env(settings: Settings) -> dict[str, str]:
    env = {
        "GIMARK_HOME": str(settings.home),
        "GIMARK_DATABASE_URL": settings.database_url,
        "GIMARK_BASE_URL": settings.base_url,
    }
    if settings.key_passphrase is not None:
        env["GIMARK_KEY_PASSPHRASE"] = settings.key_passphrase
    return env


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def env_of() -> Callable[[Settings], dict[str, str]]:
    """The GIMARK_* environment that gives a gimark process these settings."""
    return settings_env


@pytest.fixture
def run(settings: Settings) -> Callable[..., Result]:
    """Invoke ``gimark ARGS`` in-process with this test's settings."""
    from gimark.core.cli import cli

    def invoke(
        *args: str, ok: bool = True, env: dict[str, str] | None = None, input: str | None = None
    ) -> Result:
        full_env = settings_env(settings) | (env or {})
        runner = CliRunner()
        outcome = runner.invoke(cli, list(args), env=full_env, input=input, catch_exceptions=True)
        result = Result(outcome.exit_code, outcome.stdout, outcome.stderr)
        if ok:
            assert outcome.exit_code == 0, f"gimark {' '.join(args)} failed: {outcome.stderr}"
        return result

    return invoke


# --- factories -------------------------------------------------------------------------------

VALID_USCC = "91350100M000100Y43"


def make_uscc(serial: int, region: str = "350100") -> str:
    """A valid credit code, distinct per ``serial``."""
    from gimark.trace.uscc import check_character

    first17 = f"91{region}{serial:09d}"
    return first17 + check_character(first17)


@pytest.fixture
def make_product(db: Database) -> Callable[..., Any]:
    from gimark.trace import services
    from gimark.trace.models import ProductKind

    def make(**overrides: Any) -> Any:
        fields: dict[str, Any] = {
            "name_zh": "沅江芦笋",
            "name_en": "Yuanjiang Asparagus",
            "kind": ProductKind.PROTECTED_PRODUCT,
            "region": "430981",
        } | overrides
        with db.session() as s:
            return services.add_product(s, **fields)

    return make


@pytest.fixture
def make_enterprise(db: Database) -> Callable[..., Any]:
    from gimark.trace import services

    numbers = itertools.count(1)

    def make(**overrides: Any) -> Any:
        fields: dict[str, Any] = {
            "name": "沅江市芦笋合作社",
            "uscc": make_uscc(next(numbers)),
            "actor": "test",
        } | overrides
        with db.session() as s:
            return services.add_enterprise(s, **fields)

    return make


@pytest.fixture
def make_printer(db: Database) -> Callable[..., Any]:
    from gimark.trace import services

    numbers = itertools.count(500)

    def make(**overrides: Any) -> Any:
        fields: dict[str, Any] = {
            "name": "湖南印务有限公司",
            "uscc": make_uscc(next(numbers), "430100"),
        } | overrides
        with db.session() as s:
            return services.add_printer(s, **fields)

    return make


# --- the web app -----------------------------------------------------------------------------


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    from gimark.verify_web import create_app
    from gimark.verify_web.extensions import database

    flask_app = create_app({"TESTING": True, "GIMARK_SETTINGS": settings})
    yield flask_app
    database(flask_app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
