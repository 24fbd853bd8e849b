"""Counts the database keeps as rows change: a table of (key, count) beside a large table.

A figure over every case (how many in each status, each company) costs a scan
of every row when it is counted on demand. A counts table holds the figure
per key instead, and triggers on the counted table move it in the same
transaction as the row: every write counts, whichever code makes it (a
transition, a compare-and-swap `update()`, the admin, a migration). Readers
sum a few hundred rows.

`Counted` describes one such table; `install`, `rebuild` and `uninstall` give
the SQL for PostgreSQL and SQLite (the embedded default). A bulk load that
switches triggers off (the bench's seeder) calls `rebuild` afterwards.
"""

# The SQL below is built from the constants the migrations declare, never from input.
# ruff: noqa: S608

from dataclasses import dataclass


@dataclass(frozen=True)
class Counted:
    """What is counted: the source table, the counts table, and each key's expression.

    A key's expression is written over `{row}`, the counted row (NEW or OLD);
    `watched` are the source's columns a change of which may move a row's key.
    """

    name: str
    source: str
    counts: str
    keys: dict[str, str]
    watched: tuple[str, ...]

    def _key(self, row: str) -> list[str]:
        return [expression.format(row=row) for expression in self.keys.values()]

    def _where(self, row: str) -> str:
        return " AND ".join(
            f"{column} = {value}" for column, value in zip(self.keys, self._key(row), strict=True)
        )

    def _increment(self, row: str) -> list[str]:
        columns = ", ".join(self.keys)
        return [
            f"INSERT INTO {self.counts} ({columns}, count) "
            f"VALUES ({', '.join(self._key(row))}, 0) ON CONFLICT DO NOTHING;",
            f"UPDATE {self.counts} SET count = count + 1 WHERE {self._where(row)};",
        ]

    def _decrement(self, row: str) -> list[str]:
        return [f"UPDATE {self.counts} SET count = count - 1 WHERE {self._where(row)};"]

    def _postgresql(self) -> list[str]:
        new, old = ", ".join(self._key("NEW")), ", ".join(self._key("OLD"))
        body = "\n".join(
            [
                # Two changes at once lock the count rows in one order (the lower key
                # first), so that two transactions moving cases between the same two
                # keys in opposite directions never wait on each other in a cycle.
                f"IF TG_OP = 'UPDATE' AND ROW({new}) < ROW({old}) THEN",
                *self._increment("NEW"),
                *self._decrement("OLD"),
                "RETURN NULL;",
                "END IF;",
                "IF TG_OP <> 'INSERT' THEN",
                *self._decrement("OLD"),
                "END IF;",
                "IF TG_OP <> 'DELETE' THEN",
                *self._increment("NEW"),
                "END IF;",
                "RETURN NULL;",
            ]
        )
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in self.watched)
        return [
            f"CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger AS $$\n"
            f"BEGIN\n{body}\nEND\n$$ LANGUAGE plpgsql;",
            f"CREATE TRIGGER {self.name}_rows AFTER INSERT OR DELETE ON {self.source} "
            f"FOR EACH ROW EXECUTE FUNCTION {self.name}();",
            f"CREATE TRIGGER {self.name}_changes AFTER UPDATE ON {self.source} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {self.name}();",
        ]

    def _sqlite(self) -> list[str]:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in self.watched)
        # SQLite takes no ON CONFLICT in a trigger's INSERT: OR IGNORE says the same.
        increment = [
            s.replace("INSERT INTO", "INSERT OR IGNORE INTO").replace(" ON CONFLICT DO NOTHING", "")
            for s in self._increment("NEW")
        ]
        return [
            f"CREATE TRIGGER {self.name}_insert AFTER INSERT ON {self.source} "
            f"BEGIN {' '.join(increment)} END;",
            f"CREATE TRIGGER {self.name}_delete AFTER DELETE ON {self.source} "
            f"BEGIN {' '.join(self._decrement('OLD'))} END;",
            f"CREATE TRIGGER {self.name}_update AFTER UPDATE ON {self.source} WHEN {changed} "
            f"BEGIN {' '.join(self._decrement('OLD'))} {' '.join(increment)} END;",
        ]

    def install(self, vendor: str) -> list[str]:
        """Return the SQL that creates the triggers and counts the rows already there."""
        triggers = {"postgresql": self._postgresql, "sqlite": self._sqlite}[vendor]()
        return [*triggers, *self.rebuild()]

    def rebuild(self) -> list[str]:
        """Return the SQL that counts every row afresh (after a load with triggers off)."""
        columns = ", ".join(self.keys)
        keyed = ", ".join(
            f"{value} AS {column}"
            for column, value in zip(self.keys, self._key(self.source), strict=True)
        )
        return [
            f"DELETE FROM {self.counts};",
            f"INSERT INTO {self.counts} ({columns}, count) SELECT {columns}, COUNT(*) "
            f"FROM (SELECT {keyed} FROM {self.source}) AS counted GROUP BY {columns};",
        ]

    def uninstall(self, vendor: str) -> list[str]:
        if vendor == "postgresql":
            return [f"DROP FUNCTION IF EXISTS {self.name}() CASCADE;"]
        return [
            f"DROP TRIGGER IF EXISTS {self.name}_{op};" for op in ("insert", "delete", "update")
        ]
