"""Generations: what lets a shared cache answer for the database and never be stale.

An entry cached from the database records the generations it was read under;
it is used only while they are still current. A change bumps its generation
(a fresh random value) before its transaction commits and again after, so an
entry read from the old rows is never used once the change is visible:

- `ACCESS` moves with anything that decides who may see or use what: API
  tokens, people (active, role), memberships, conflicts of interest,
  evaluators of a case.
- `case_generation(number)` moves with any change of that case (every
  timeline event, any save of the case).

Only a cache that every process shares (Redis, `CACHE_URL`) can carry a bump
to the others; with a per-process cache nothing is cached at all.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

ACCESS = "gen:access"
# An entry outlives no bump, but a bump lost while Redis was unreachable must
# not leave a stale entry for long either.
ENTRY_SECONDS = 120


def case_generation(number: str) -> str:
    return f"gen:case:{number}"


def enabled() -> bool:
    """Return whether the cache is shared by every process, as generations need."""
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def _new() -> str:
    return uuid.uuid4().hex[:16]


def _bump_now(keys: tuple[str, ...]) -> None:
    try:
        cache.set_many({key: _new() for key in keys}, timeout=None)
    except Exception:  # the cache is an accelerator: a change must not fail with it
        logger.exception("could not bump cache generations %s", keys)


def bump(*keys: str) -> None:
    """Invalidate every entry read under these generations, now and once the change commits."""
    if not enabled():
        return
    _bump_now(keys)
    # Read again between the bump and the commit, an entry holds the old rows: bump again.
    transaction.on_commit(lambda: _bump_now(keys), robust=True)


def redis_client():
    """Return this process's client of the shared cache's Redis, or None without one.

    Django makes a client object for every cache call, which costs more than
    the round trip itself; the hot paths reuse one (its connections are pooled).
    """
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        return None
    client = getattr(backend, "_reused_client", None)
    if client is None:
        client = backend._reused_client = backend.get_client(write=True)
    return client


def get_many(keys: list[str]) -> dict:
    """Return the values of those keys that exist, in one round trip."""
    client = redis_client()
    if client is None:
        return cache.get_many(keys)
    return _loaded(keys, client.mget([cache.make_and_validate_key(key) for key in keys]))


def _loaded(keys: list[str], values: list) -> dict:
    loads = cache._cache._serializer.loads
    return {key: loads(value) for key, value in zip(keys, values, strict=True) if value is not None}


def read_and_count(keys: list[str], counters: dict[str, int]) -> tuple[dict, dict[str, int]]:
    """Return the values of those keys that exist, and count one more on each counter.

    A counter is kept its number of seconds. With Redis it is all one round trip.
    """
    client = redis_client()
    if client is None:
        counted = {}
        for key, seconds in counters.items():
            cache.add(key, 0, seconds)
            counted[key] = cache.incr(key)
        return cache.get_many(keys), counted
    make = cache.make_and_validate_key
    pipe = client.pipeline(transaction=False)
    pipe.mget([make(key) for key in keys])
    for key, seconds in counters.items():
        pipe.incr(make(key))
        pipe.expire(make(key), seconds)
    values, *replies = pipe.execute()
    return _loaded(keys, values), dict(zip(counters, replies[::2], strict=True))


class Prefetched:
    """Keys read together at the start of a request, so its later reads cost no round trip.

    Counters (a request budget) may be counted in the same round trip; `counted`
    holds their new values.
    """

    def __init__(self, keys: list[str], counters: dict[str, int] | None = None):
        self.asked = frozenset(keys)
        self.found, self.counted = read_and_count(list(keys), counters or {})

    def covers(self, keys: tuple[str, ...], generation_keys: tuple[str, ...]) -> bool:
        return self.asked.issuperset(keys) and all(k in self.found for k in generation_keys)


def prefetch(keys: list[str], counters: dict[str, int] | None = None) -> Prefetched | None:
    """Read these keys (and count these counters) in one round trip for this request."""
    try:
        return Prefetched(keys, counters)
    except Exception:
        logger.warning("the shared cache is unreachable; reading the database", exc_info=True)
        return None


def read(
    entry_key: str, *generation_keys: str, prefetched: Prefetched | None = None
) -> tuple[object | None, tuple]:
    """Return (the entry if it was stored under the current generations, those generations).

    One round trip to the cache (none when this request prefetched the keys);
    a generation the cache lost is set anew, so every entry stored under the
    lost one stops matching.
    """
    if prefetched is not None and prefetched.covers((entry_key, *generation_keys), generation_keys):
        return _match(prefetched.found, entry_key, generation_keys)
    try:
        found = get_many([entry_key, *generation_keys])
        missing = [key for key in generation_keys if key not in found]
        for key in missing:
            cache.add(key, _new(), timeout=None)
        if missing:
            found.update(get_many(missing))
    except Exception:  # Redis unreachable: answer from the database, store nothing
        logger.warning("the shared cache is unreachable; reading the database", exc_info=True)
        return None, ()
    if missing:
        return None, tuple(found.get(key) for key in generation_keys)
    return _match(found, entry_key, generation_keys)


def _match(found: dict, entry_key: str, generation_keys: tuple) -> tuple[object | None, tuple]:
    generations = tuple(found.get(key) for key in generation_keys)
    entry = found.get(entry_key)
    if not isinstance(entry, tuple) or len(entry) != 2 or entry[0] != generations:
        return None, generations
    return entry[1], generations


def store(entry_key: str, generations: tuple, value: object) -> None:
    """Keep a value read from the database under the generations read before it."""
    if not generations or None in generations:
        return
    try:
        cache.set(entry_key, (generations, value), timeout=ENTRY_SECONDS)
    except Exception:
        logger.warning("the shared cache is unreachable; nothing kept", exc_info=True)


def cached(entry_key: str, *generation_keys: str, load, prefetched: Prefetched | None = None):
    """Return the entry kept under these generations, or `load()` it and keep it.

    The one way to answer from the shared cache: without one (or with the
    cache unreachable) every call loads; a `None` from `load` is not kept.
    """
    if not enabled():
        return load()
    found, current = read(entry_key, *generation_keys, prefetched=prefetched)
    if found is None:
        found = load()
        if found is not None:
            store(entry_key, current, found)
    return found
