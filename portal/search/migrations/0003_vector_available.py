"""Related media need pgvector in the database server. Checked in a migration of its own, before any
schema change: without the extension, migrate stops here with what to do, and nothing is half made
(the next migration, which creates the extension and the embeddings table, has not started)."""

from django.db import migrations

EXTENSION = "vector"


class ExtensionUnavailable(RuntimeError):
    pass


def require_extension(connection, name: str = EXTENSION) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name])
        if cursor.fetchone() is not None:
            return
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    raise ExtensionUnavailable(
        f'The PostgreSQL extension "{name}" (pgvector) is not available on this server (PostgreSQL {version}): '
        "related media store embeddings in it. Nothing was changed; migrate stopped before the embeddings "
        "table. Install pgvector into this server (locally `bin/stack up` builds it; on a managed PostgreSQL, "
        "enable its pgvector extension), then run migrate again. README: Search, related media."
    )


def check(apps, schema_editor) -> None:
    require_extension(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_pending_index")]

    operations = [migrations.RunPython(check, migrations.RunPython.noop, elidable=False)]
