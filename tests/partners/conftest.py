"""A real partner database beside the test database, on the same PostgreSQL server (standing for the
partner's own): the import reads it through the postgres_fdw foreign table our database defines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings

PARTNER_TABLE = """
CREATE TABLE catalogue_item (
    id bigint PRIMARY KEY,
    title text, kind text, description text, url text, tags text,
    price numeric  -- the partner's own column, which we do not read
)"""


def _dsn(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return (f"host={db['HOST']} port={db['PORT']} user={db['USER']} password={db['PASSWORD']} "
            f"dbname={dbname}")


class Partner:
    """The partner's side: rows written in their database, committed at once."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def add(self, *rows: dict[str, Any]) -> None:
        for row in rows:
            values = {"title": "", "kind": "video", "description": "", "url": f"https://partner.example/{row['id']}",
                      "tags": "", **row}
            self.conn.execute("INSERT INTO catalogue_item (id, title, kind, description, url, tags) "
                              "VALUES (%(id)s, %(title)s, %(kind)s, %(description)s, %(url)s, %(tags)s)", values)

    def change(self, row_id: int, **fields: str) -> None:
        for name, value in fields.items():
            self.conn.execute(f"UPDATE catalogue_item SET {name} = %s WHERE id = %s", [value, row_id])

    def remove(self, row_id: int) -> None:
        self.conn.execute("DELETE FROM catalogue_item WHERE id = %s", [row_id])


@pytest.fixture(scope="session")
def partner_database(django_db_setup: None) -> Iterator[str]:
    name = f"{settings.DATABASES['default']['TEST']['NAME']}_partner"
    with psycopg.connect(_dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(_dsn(name), autocommit=True) as conn:
        conn.execute(PARTNER_TABLE)
    yield name
    with psycopg.connect(_dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def partner(partner_database: str, transactional_db: None, settings: Any) -> Iterator[Partner]:
    """An empty partner catalogue, and our foreign table pointing at it. Transactional: postgres_fdw
    reads the partner in a snapshot per local transaction, so each import must really commit."""
    db = settings.DATABASES["default"]
    settings.PARTNER_CATALOGUE_URL = (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
                                      f"{partner_database}")
    settings.PARTNER_CATALOGUE_TABLE = "public.catalogue_item"
    with psycopg.connect(_dsn(partner_database), autocommit=True) as conn:
        conn.execute("TRUNCATE catalogue_item")
        yield Partner(conn)
