"""Alembic's environment: the service's own engine and models."""

from __future__ import annotations

from alembic import context

from dn_docs.service.db import create_db_engine
from dn_docs.service.models import Base

url = context.config.get_main_option("sqlalchemy.url")
assert url
engine = create_db_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
