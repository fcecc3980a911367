"""The service's settings, read from ``DN_DOCS_*`` environment variables.

Two ways to run: *embedded* (no ``DN_DOCS_BROKER_URL``, a SQLite file in the data
folder, a local pool of warm render processes) and *distributed* (PostgreSQL and
Celery workers on other machines, which read the same ``DN_DOCS_DATABASE_URL`` and
``DN_DOCS_SECRET_KEY``).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..errors import DnDocsError
from ..storage import DIR_MODE, FILE_MODE, ensure_dir

SECRET_KEY_FILE = "secret.key"  # noqa: S105  # the file's name, not a key
SQLITE_FILE = "dn-docs.sqlite3"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/dn-docs``, or ``~/.local/share/dn-docs``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dn-docs"


class Settings(BaseSettings):
    """Every setting, each from ``DN_DOCS_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="DN_DOCS_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    #: SQLAlchemy URL; ``postgresql://`` is used through psycopg 3.
    database_url: str | None = None
    #: Encrypts stored requests and PDFs; several keys, comma-separated, for rotation:
    #: the first encrypts, all decrypt.
    secret_key: SecretStr | None = None
    broker_url: str | None = None
    #: The Celery queue the service sends its jobs to.
    queue: str = "dn-docs"
    #: Render processes of the embedded pool (one per core).
    render_processes: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    #: Renders a server lets wait at once before it answers 429.
    max_pending: int = Field(default=64, ge=1)
    #: Seconds a synchronous POST /v1/documents waits before it answers 202 instead.
    sync_timeout: float = Field(default=120, gt=0)
    #: Seconds one render may take.
    soft_time_limit: float = Field(default=60, gt=0)
    #: Days a new clinic keeps requests and PDFs.
    retention_days: int = Field(default=30, ge=1, le=3650)
    #: Seconds between runs of the retention purge in the server.
    purge_interval: float = Field(default=3600, gt=0)
    #: The web app's session cookie is sent over HTTPS only (set it behind an HTTPS proxy).
    secure_cookies: bool = False
    #: Hours a web app sign-in lasts.
    session_hours: float = Field(default=12, gt=0, le=24 * 30)

    @property
    def embedded(self) -> bool:
        """No broker and a SQLite database: everything on this machine."""
        return not self.broker_url and self.database.startswith("sqlite")

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / SQLITE_FILE}"

    def prepare_data_dir(self) -> Path:
        folder = ensure_dir(self.data_dir)
        folder.chmod(DIR_MODE)
        return folder

    def secret_keys(self) -> list[bytes]:
        """The encryption keys' material; generated into the data folder in embedded mode."""
        if self.secret_key is not None:
            keys = [k.strip() for k in self.secret_key.get_secret_value().split(",")]
            if not all(len(k) >= 16 for k in keys):
                raise DnDocsError("DN_DOCS_SECRET_KEY: each key must be at least 16 characters")
            return [k.encode("utf-8") for k in keys]
        if not self.embedded:
            raise DnDocsError(
                "DN_DOCS_SECRET_KEY must be set with PostgreSQL or a broker: every server"
                " and worker needs the same key"
            )
        path = self.prepare_data_dir() / SECRET_KEY_FILE
        if not path.exists():
            key = base64.urlsafe_b64encode(secrets.token_bytes(32))
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            except FileExistsError:  # another process of this service made it first
                pass
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(key + b"\n")
                logging.getLogger("dn_docs.service").warning(
                    "generated the encryption key %s: back it up with the database", path
                )
        return [path.read_bytes().strip()]


@cache
def settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()
