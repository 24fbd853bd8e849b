"""Template context about the signed-in person."""

from accounts.middleware import second_factor_pending


def sign_in_state(request) -> dict:
    """Whether the person still owes their second factor: the navigation waits until then."""
    if not hasattr(request, "user"):
        return {}
    return {"second_factor_pending": second_factor_pending(request)}
