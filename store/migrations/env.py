"""Alembic environment: always run online, on the connection the caller passes in."""

from alembic import context

from store.engine import open_store
from store.schema import metadata

connection = context.config.attributes.get("connection")

if connection is None:
    # `alembic` invoked from the command line: use the project's URL resolution.
    engine = open_store(migrate=False)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
