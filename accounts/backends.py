"""The sign-in lockout, by django-axes."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuse a locked-out sign-in; pass over calls that come without a request.

    The sign-in form always passes its request, so every attempt a person makes
    is counted. Programmatic checks without one (a management command, the test
    client's login) have no address to count against and are left to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def sign_in_name(request, credentials) -> str | None:
    """Return the address a sign-in attempt counts against: as typed, in lower case.

    Addresses sign in case-insensitively, so they are counted that way too;
    otherwise “ALICE@…” would get a fresh set of attempts.
    """
    source = credentials if credentials is not None else request.POST
    name = (source or {}).get("username")
    # Cut to an address's longest length: the attempt log's column holds no more.
    return name.strip().lower()[:254] if isinstance(name, str) else None
