"""The service's commands: ``serve``, ``db``, ``clinics`` and ``keys``.

Imported by the ``dn-docs`` command line; the service's own modules load only when one
of these commands runs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


@contextmanager
def _errors() -> Iterator[None]:
    from ..cli import user_errors

    try:
        with user_errors():
            yield
    except click.ClickException:
        raise
    except Exception as exc:  # a database that is down: one line, not a traceback
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            raise click.ClickException(f"database unreachable: {type(exc.orig).__name__}") from None
        raise


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["fmt"] = (
        '%(asctime)s %(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'
    )
    config["formatters"]["service"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config["handlers"]["service"] = {
        "class": "logging.StreamHandler",
        "formatter": "service",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["dn_docs"] = {"handlers": ["service"], "level": "INFO", "propagate": False}
    config.setdefault("filters", {})["signing_links"] = {
        "()": "dn_docs.service.accesslog.SigningLinkFilter"
    }
    config["handlers"]["access"]["filters"] = ["signing_links"]
    return config


def register(main: click.Group) -> None:
    """Add the service's commands to ``main``."""

    @main.command()
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
    def serve(host: str, port: int) -> None:
        """Run the HTTP API (embedded: SQLite and local render processes)."""
        import uvicorn

        uvicorn.run(
            "dn_docs.service.app:create_app",
            factory=True,
            host=host,
            port=port,
            log_config=_log_config(),
            proxy_headers=False,
            server_header=False,
        )

    @main.group(name="db")
    def db_group() -> None:
        """The service's database (DN_DOCS_DATABASE_URL)."""

    @db_group.command(name="upgrade")
    def db_upgrade() -> None:
        """Create the tables or migrate them to the newest schema."""
        from . import db
        from .settings import settings

        with _errors():
            if settings().embedded:
                settings().prepare_data_dir()
            db.upgrade()
        click.echo(f"database at the newest schema ({db.engine().dialect.name})")

    @db_group.command(name="purge")
    def db_purge() -> None:
        """Delete requests and PDFs older than each clinic's retention period."""
        from .services.retention import purge_expired

        with _errors():
            purged = purge_expired()
        click.echo(str(purged))

    @main.group(name="clinics")
    def clinics_group() -> None:
        """Clinics (tenants) of the service."""

    @clinics_group.command(name="create")
    @click.option("--name", required=True, help="The clinic's name.")
    @click.option("--country", required=True, help="ISO 3166 alpha-2 code, such as US or ES.")
    @click.option("--language", default="en", show_default=True, help="Working language.")
    @click.option("--phone", help="Phone number printed on documents (or set it later).")
    @click.option("--address", help="Address printed on documents.")
    def clinics_create(
        name: str, country: str, language: str, phone: str | None, address: str | None
    ) -> None:
        """Create a clinic and print its id."""
        from . import db
        from .services import clinics

        with _errors(), db.session() as session:
            clinic = clinics.create_clinic(session, name, country, language, phone, address)
        click.echo(clinic.id)

    @clinics_group.command(name="list")
    def clinics_list() -> None:
        """Print every clinic's id, country and name."""
        from . import db
        from .services import clinics

        with _errors(), db.session() as session:
            for clinic in clinics.list_clinics(session):
                click.echo(f"{clinic.id}  {clinic.country}  {clinic.name}")

    @main.group(name="keys")
    def keys_group() -> None:
        """API keys of a clinic."""

    @keys_group.command(name="create")
    @click.option("--clinic", "clinic_id", required=True, help="The clinic's id.")
    @click.option(
        "--role",
        type=click.Choice(["admin", "practitioner", "front_desk"]),
        default="admin",
        show_default=True,
        help="What the key may do: only admin keys change the clinic's profile.",
    )
    @click.option("--label", help="A note on what the key is for.")
    def keys_create(clinic_id: str, role: str, label: str | None) -> None:
        """Create a key and print it (once: only its hash is stored)."""
        from . import db
        from .models import Role
        from .services import keys

        with _errors(), db.session() as session:
            key, secret = keys.create_key(session, clinic_id, Role(role), label)
            key_id = key.id
        click.echo(secret)
        click.echo(
            f"key {key_id} ({role}) for clinic {clinic_id}: keep it now, it is not shown again;"
            f" revoke it with `dn-docs keys revoke {key_id}`",
            err=True,
        )

    @keys_group.command(name="revoke")
    @click.argument("key_id")
    def keys_revoke(key_id: str) -> None:
        """Revoke a key by its id (the part after ``dnd_``)."""
        from . import db
        from .security import key_id_of
        from .services import keys

        with _errors(), db.session() as session:
            key = keys.revoke_key(session, key_id_of(key_id) or key_id)
            click.echo(f"key {key.id} revoked")

    @keys_group.command(name="list")
    @click.option("--clinic", "clinic_id", required=True, help="The clinic's id.")
    def keys_list(clinic_id: str) -> None:
        """Print a clinic's keys: id, role, created, revoked."""
        from . import db
        from .services import keys

        with _errors(), db.session() as session:
            for key in keys.list_keys(session, clinic_id):
                revoked = key.revoked_at.isoformat() if key.revoked_at else "active"
                click.echo(f"{key.id}  {key.role:12}  {key.created_at.isoformat()}  {revoked}")

    @main.group(name="users")
    def users_group() -> None:
        """People who sign in to the web app."""

    @users_group.command(name="create")
    @click.option("--clinic", "clinic_id", required=True, help="The clinic's id.")
    @click.option("--email", required=True, help="What they sign in with.")
    @click.option("--name", required=True, help="Their name, as the web app shows it.")
    @click.option(
        "--role",
        type=click.Choice(["admin", "practitioner", "front_desk"]),
        default="admin",
        show_default=True,
        help="admin: also the clinic's settings; practitioner, front_desk: documents, batches.",
    )
    @click.option(
        "--password-stdin",
        is_flag=True,
        required=True,
        help="Read the password from standard input (never from the command line).",
    )
    def users_create(
        clinic_id: str, email: str, name: str, role: str, password_stdin: bool
    ) -> None:
        """Create a user and print their id; the password is read from standard input."""
        import sys

        from . import db
        from .models import Role
        from .services import users

        password = sys.stdin.readline().rstrip("\r\n")
        with _errors(), db.session() as session:
            user = users.create_user(session, clinic_id, email, name, Role(role), password)
            user_id = user.id
        click.echo(user_id)

    @users_group.command(name="list")
    @click.option("--clinic", "clinic_id", required=True, help="The clinic's id.")
    def users_list(clinic_id: str) -> None:
        """Print a clinic's users: id, role, email."""
        from . import db
        from .services import users

        with _errors(), db.session() as session:
            for user in users.clinic_users(session, clinic_id):
                click.echo(f"{user.id}  {user.role:12}  {user.email}")
