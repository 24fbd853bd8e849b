class ActionRefused(Exception):
    """The action may not be taken; `blockers` says why, in words a person can act on."""

    http_status = 409  # the request conflicts with the case's state

    def __init__(self, blockers: list[str] | str):
        self.blockers = [blockers] if isinstance(blockers, str) else list(blockers)
        super().__init__("; ".join(self.blockers))


class BadInput(ActionRefused):
    """What was sent cannot be accepted as it is (a 400, not a state conflict)."""

    http_status = 400


class NotAllowed(ActionRefused):
    """The actor sees the case but may not do this (a 403)."""

    http_status = 403


class CaseNotFound(Exception):
    """The case does not exist or the actor may not see it (the two are not told apart)."""


class Blocker(str):
    """A blocker's sentence that also names the page where it is dealt with.

    It is the sentence everywhere a string goes (the API, a refusal, a log);
    a page that knows of `url` links the sentence there.
    """

    url: str

    def __new__(cls, text: str, url: str = ""):
        blocker = super().__new__(cls, text)
        blocker.url = url
        return blocker

    def __reduce__(self):
        return (Blocker, (str(self), self.url))

    @property
    def text(self) -> str:
        return str(self)
