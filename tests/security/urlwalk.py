"""Walk the URL resolver: every pattern of the portal, as one string per route."""

from django.urls import URLPattern, URLResolver, get_resolver


def every_route(resolver=None, prefix: str = "", namespace: str = ""):
    """Yield (route, view name) for every URL pattern, descending into includes."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        here = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from every_route(entry, here, inner)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield here, name
