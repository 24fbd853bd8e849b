"""Count the database queries of each request and time it, in response headers."""

import time

from django.db import connection


def measure_request(get_response):
    def middleware(request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["X-Bench-Queries"] = str(queries)
        response["Server-Timing"] = f"app;dur={elapsed_ms:.2f}"
        return response

    return middleware
