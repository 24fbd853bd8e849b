"""Read a row with its small related lists in one query, as if they had been prefetched.

A page about one object (the case page) shows a dozen short lists of rows that
belong to it. `prefetch_related` reads each in a query of its own; `fetch`
reads them as JSON arrays inside the object's own query (PostgreSQL), then
puts model instances in the prefetch cache, so `obj.<relation>.all()` and
every reader that asks `prefetched(obj, name)` costs no query. Elsewhere
(SQLite, the embedded default) the same folds are plain prefetches.
"""

import functools
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import JSONField, Model, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject


@dataclass(frozen=True)
class Fold:
    """A relation of the parent read with it: its accessor name, its rows, their own FKs.

    The rows' queryset is compiled once per process, so it must not depend on
    the request: no person, no time, only the relation's own rows.
    """

    name: str
    queryset: QuerySet
    related: tuple[str, ...] = ()


def prefetched(obj: Model, name: str) -> list | None:
    """Return the rows of this relation already read with the object, or None."""
    cache = getattr(obj, "_prefetched_objects_cache", None)
    if not cache or name not in cache:
        return None
    return list(cache[name])


def remember(obj: Model, name: str, rows: list) -> None:
    """Keep these rows as the object's `name` relation, as a prefetch would."""
    manager = getattr(obj, name)
    queryset = manager.get_queryset() if prefetched(obj, name) is None else manager.all()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    if not hasattr(obj, "_prefetched_objects_cache"):
        obj._prefetched_objects_cache = {}
    obj._prefetched_objects_cache[_cache_name(manager)] = queryset


def _cache_name(manager) -> str:
    # A many-to-many manager names its cache; a reverse foreign key's is its related name.
    name = getattr(manager, "prefetch_cache_name", None)
    return name or manager.field.remote_field.cache_name


def _columns(model, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{f.attname}": f"{prefix}{f.attname}" for f in model._meta.concrete_fields}


def _link(parent_model, name: str) -> tuple[str, str | None]:
    """Return the lookup from the related rows to the parent, and the FK naming the parent."""
    relation = parent_model._meta.get_field(name)
    if relation.many_to_many:
        if relation.concrete:  # declared on the parent
            return relation.related_query_name(), None
        return relation.field.name, None
    return relation.field.name, relation.field.name


@functools.lru_cache(maxsize=16)
def _compiled(parent_model, folds: tuple[Fold, ...], db: str) -> list[tuple[str, str, tuple]]:
    """Return each fold's subquery as SQL over the parent row of the outer query."""
    connection = connections[db]
    table = parent_model._meta.db_table
    # The outer query reads the parent's table under its own name.
    quote = connection.ops.quote_name
    outer = f"{quote(table)}.{quote(parent_model._meta.pk.column)}"
    compiled = []
    for fold in folds:
        lookup, parent_fk = _link(parent_model, fold.name)
        model = fold.queryset.model
        columns = _columns(model)
        for name in fold.related:
            columns |= _columns(model._meta.get_field(name).related_model, prefix=f"{name}__")
        # Ordering by the parent would join its table inside, under the outer name.
        ordering = [
            o
            for o in (fold.queryset.query.order_by or model._meta.ordering)
            if parent_fk is None or o.lstrip("-") not in (parent_fk, f"{parent_fk}_id")
        ]
        rows = (
            fold.queryset.filter(**{lookup: RawSQL(outer, ())})  # noqa: S611 - names, no input
            .order_by(*ordering)
            .values(row=JSONObject(**columns))
        )
        sql, params = rows.query.get_compiler(using=db).as_sql()
        if sql.count(f"{quote(table)}.") != 1:
            raise ValueError(f"The fold {fold.name} reads {table} itself; it cannot be folded.")
        compiled.append((fold.name, f"ARRAY({sql})", tuple(params)))
    return compiled


def _build(model, row: dict, db: str, prefix: str = "") -> Model | None:
    fields = model._meta.concrete_fields
    if row.get(f"{prefix}{model._meta.pk.attname}") is None:
        return None
    return model.from_db(
        db,
        [f.attname for f in fields],
        [f.to_python(row[f"{prefix}{f.attname}"]) for f in fields],
    )


def fetch(queryset: QuerySet, folds: tuple[Fold, ...]) -> list[Model]:
    """Return the rows of `queryset`, each with the folded relations in its prefetch cache.

    Pass the same `folds` every time (a module's constant): their SQL is
    compiled once per process, since building a dozen subqueries through the
    ORM costs more than the database takes to answer them.
    """
    parent_model = queryset.model
    if connections[queryset.db].vendor != "postgresql":
        return list(
            queryset.prefetch_related(
                *(Prefetch(f.name, f.queryset.select_related(*f.related)) for f in folds)
            )
        )
    annotations = {
        # SQL the ORM compiled, with its parameters kept apart.
        f"_fold_{name}": RawSQL(sql, params, output_field=ArrayField(JSONField()))  # noqa: S611
        for name, sql, params in _compiled(parent_model, tuple(folds), queryset.db)
    }
    parents = list(queryset.annotate(**annotations))
    for parent in parents:
        for fold in folds:
            model = fold.queryset.model
            _, parent_fk = _link(parent_model, fold.name)
            rows = []
            for row in parent.__dict__.pop(f"_fold_{fold.name}") or ():
                obj = _build(model, row, queryset.db)
                for name in fold.related:
                    field = model._meta.get_field(name)
                    field.set_cached_value(
                        obj, _build(field.related_model, row, queryset.db, f"{name}__")
                    )
                if parent_fk is not None:
                    model._meta.get_field(parent_fk).set_cached_value(obj, parent)
                rows.append(obj)
            remember(parent, fold.name, rows)
    return parents


def attach(rows: list[Model], fk: str, targets: list[Model]) -> None:
    """Point each row's foreign key `fk` at the loaded target it names, sparing its read."""
    if not rows:
        return
    field = rows[0]._meta.get_field(fk)
    by_pk = {t.pk: t for t in targets}
    for row in rows:
        target = by_pk.get(getattr(row, field.attname))
        if target is not None:
            field.set_cached_value(row, target)
