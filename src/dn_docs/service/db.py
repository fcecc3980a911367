"""The database: engine and sessions for this process, and Alembic migrations.

SQLite (the embedded default) runs in WAL mode, so the server's threads and the render
processes read while one of them writes. PostgreSQL is reached through psycopg 3 with a
short connect timeout: a database that is down is answered with 503 at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ..errors import DnDocsError
from .settings import settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT = 3


def normalized_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` through psycopg 3; others as given."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    for _, name, path in cursor.execute("PRAGMA database_list").fetchall():
        if name == "main" and path:
            Path(path).chmod(0o600)  # the write-ahead log takes the file's mode
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    url = normalized_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=30,
            pool_timeout=10,
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
    raise DnDocsError(f"DN_DOCS_DATABASE_URL: {backend} is not supported (sqlite, postgresql)")


@cache
def _engine(pid: int) -> Engine:
    # One engine per process: a forked or spawned render process makes its own.
    return create_db_engine(settings().database)


def engine() -> Engine:
    return _engine(os.getpid())


@cache
def _sessions(pid: int) -> sessionmaker[Session]:
    return sessionmaker(_engine(pid), expire_on_commit=False)


@contextmanager
def session() -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on an exception."""
    with _sessions(os.getpid()).begin() as db:
        yield db


def ping() -> None:
    with engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalized_url(url).replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database to the newest schema."""
    from alembic import command

    command.upgrade(alembic_config(url or settings().database), "head")


def is_current(url: str | None = None) -> bool:
    """True if the database has the newest schema."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = url or settings().database
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads()) == heads
    finally:
        engine.dispose()
