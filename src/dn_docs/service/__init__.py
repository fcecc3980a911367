"""The dn-docs service: ``dn-docs serve``, an HTTP API on a database.

Layers, from the outside in::

    api/        thin FastAPI routers under /v1, problems.py for errors
    services/   the one service layer (the API and the web app call it)
    rendering.py  where renders run: a local pool of warm processes, or Celery
    jobs.py     what a render process does with an id; tasks.py its Celery task
    models.py, db.py, migrations/   SQLAlchemy 2 and Alembic
    security.py API keys and encryption at rest; settings.py DN_DOCS_* settings
"""
