"""The partner's catalogue, the one module that reaches it: a postgres_fdw foreign server, user mapping
and foreign table in our own database, made from settings.PARTNER_CATALOGUE_URL by `catalogue_setup`,
and the few queries the import needs. Our database connects to the partner's; Django never does.

The partner's table (PARTNER_CATALOGUE_TABLE) is their schema, not ours: every column is read as
text, so a value of a wrong type is one refused row (services.py), never a failed scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import DatabaseError, connection

SERVER = "partner_catalogue"
TABLE = "partners_catalogue"  # the local foreign table
COLUMNS = ("title", "kind", "description", "url", "tags")


class CatalogueUnavailable(Exception):
    """The foreign server cannot be set up or reached: said in words, with what to check."""


@dataclass(frozen=True)
class PartnerRow:
    id: int
    title: str
    kind: str
    description: str
    url: str
    tags: str


def _literal(value: object) -> str:
    """A SQL string literal (OPTIONS take no bind parameters); standard_conforming_strings is on."""
    return "'" + str(value).replace("'", "''") + "'"


def _options(**values: object) -> str:
    return ", ".join(f"{key} {_literal(value)}" for key, value in values.items())


def catalogue_setup() -> None:
    """(Re)create the foreign server, this role's user mapping and the foreign table from settings.
    Idempotent; a changed setting takes effect on the next run. postgres_fdw itself needs a superuser
    to install: bin/stack does it locally, a DBA elsewhere (README, "Partner catalogue")."""
    url = urlsplit(settings.PARTNER_CATALOGUE_URL)
    schema, _, table = settings.PARTNER_CATALOGUE_TABLE.rpartition(".")
    server = _options(host=url.hostname or "127.0.0.1", port=url.port or 5432, dbname=url.path.lstrip("/"),
                      fetch_size=500)
    mapping = _options(user=unquote(url.username or ""), password=unquote(url.password or ""))
    columns = ", ".join(f"{name} text" for name in COLUMNS)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgres_fdw'")
            if cursor.fetchone() is None:
                cursor.execute("CREATE EXTENSION postgres_fdw")
            cursor.execute(f"DROP SERVER IF EXISTS {SERVER} CASCADE")  # its mapping and foreign table too
            cursor.execute(f"CREATE SERVER {SERVER} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({server})")
            cursor.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER {SERVER} OPTIONS ({mapping})")
            cursor.execute(f"CREATE FOREIGN TABLE {TABLE} (id bigint NOT NULL, {columns}) SERVER {SERVER} "
                           f"OPTIONS ({_options(schema_name=schema or 'public', table_name=table)})")
    except DatabaseError as error:
        raise CatalogueUnavailable(f"Could not set up the partner catalogue's foreign table: {error}".strip()) \
            from error


def _query(sql: str, params: list[int]) -> list[tuple[Any, ...]]:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    except DatabaseError as error:
        raise CatalogueUnavailable(
            f"The partner catalogue did not answer ({settings.PARTNER_CATALOGUE_TABLE} at "
            f"{urlsplit(settings.PARTNER_CATALOGUE_URL).hostname}): {error}".strip()) from error


def catalogue_rows(*, after_id: int, limit: int) -> list[PartnerRow]:
    """The next rows by partner id (ORDER BY and LIMIT run on the partner's server)."""
    rows = _query(f"SELECT id, {', '.join(COLUMNS)} FROM {TABLE} WHERE id > %s ORDER BY id LIMIT %s",
                  [after_id, limit])
    return [PartnerRow(int(row[0]), *(str(value or "") for value in row[1:])) for row in rows]


def catalogue_count(*, after_id: int = 0) -> int:
    return int(_query(f"SELECT count(*) FROM {TABLE} WHERE id > %s", [after_id])[0][0])


def catalogue_gone(*, limit: int) -> list[int]:
    """Partner ids we hold, not yet withdrawn, that the catalogue no longer has."""
    rows = _query(f"SELECT item.external_id FROM partners_partneritem AS item WHERE NOT item.withdrawn "
                  f"AND NOT EXISTS (SELECT 1 FROM {TABLE} AS row WHERE row.id = item.external_id) "
                  f"ORDER BY item.external_id LIMIT %s", [limit])
    return [int(row[0]) for row in rows]
