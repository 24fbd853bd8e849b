"""The model card check: does a Markdown card carry the sections a reviewer needs?

A card is anyone's text, so it is read as hostile: a bounded size, headings
found line by line (no pattern that can backtrack), the front matter read
with a YAML loader that refuses aliases and deep nesting before
huggingface_hub's ModelCardData sees the metadata, and the whole reading done
in a child process with a time and memory limit (core.sandbox).
huggingface_hub's validate() is never called: it posts the card to a remote
server, and these cards are confidential.

This module imports no Django model: the sandbox's children load it alone.
"""

import logging
from dataclasses import dataclass, field

import yaml
from huggingface_hub import ModelCardData

from core import sandbox

# Each section a reviewer needs, with the headings that satisfy it (lower
# case, matched as substrings, so "Bias, Risks, and Limitations" from the
# Hugging Face template and a plain "Limitations" both count).
REQUIRED_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Intended uses", ("intended use", "direct use", "uses")),
    ("Out-of-scope uses", ("out-of-scope", "out of scope", "misuse")),
    ("Bias, risks and limitations", ("bias", "risk", "limitation")),
    ("Training data", ("training data", "training details", "training")),
    ("Evaluation", ("evaluation", "results", "testing")),
    (
        "Compute and environmental impact",
        ("environmental impact", "compute", "carbon", "emissions"),
    ),
    ("Technical specifications", ("technical specification", "architecture", "model details")),
)

# A card is prose: the Hugging Face template fills about 10 KiB, and its
# metadata far less. Longer ones are kept but not read.
MAX_CARD_BYTES = 1024 * 1024
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_YAML_DEPTH = 32
CHECK_SECONDS = 5
CHECK_MEMORY_BYTES = 256 * 1024 * 1024

METADATA_PROBLEM = (
    "The model card's metadata block (between the --- lines at the top) could not be read: {}."
)


@dataclass
class CardCheck:
    missing: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.problem


def check_model_card(text: str) -> CardCheck:
    """Return the required sections this Markdown card lacks, or why it cannot be read."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CARD_BYTES:
        return CardCheck(
            problem=f"The model card is longer than {MAX_CARD_BYTES // 1024} KiB; "
            "it was kept, but its sections were not checked."
        )
    try:
        return sandbox.run(
            read_model_card, text, seconds=CHECK_SECONDS, memory_bytes=CHECK_MEMORY_BYTES
        )
    except sandbox.LimitExceeded as limit:
        return CardCheck(problem=f"The model card could not be checked: {limit}.")


def read_model_card(text: str) -> CardCheck:
    """Check a card in this process (the sandbox's child runs this)."""
    front_matter, body = split_front_matter(text)
    if front_matter is not None:
        problem = metadata_problem(front_matter)
        if problem:
            return CardCheck(problem=METADATA_PROBLEM.format(problem)[:500])
    headings = [heading.lower() for heading in markdown_headings(body)]
    if not headings:
        return CardCheck(
            missing=[name for name, _ in REQUIRED_SECTIONS],
            problem="The model card has no Markdown headings (“## Uses”, …) to find sections by.",
        )
    missing = [
        name
        for name, needles in REQUIRED_SECTIONS
        if not any(needle in heading for heading in headings for needle in needles)
    ]
    return CardCheck(missing=missing)


# --- the parts of a card ---------------------------------------------------------------


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Return the YAML block between the opening and closing --- lines, and the text after.

    The same block huggingface_hub's cards recognise: optional leading white
    space, a line "---", then everything up to the next line that is "---"
    (trailing spaces allowed). No closing line means no block.
    """
    lines = text.lstrip().splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return None, text
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip("\r\n").rstrip(" \t") == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    return None, text


def markdown_headings(text: str) -> list[str]:
    """Return the text of each ATX heading ("## Uses ##" gives "Uses"), one line at a time."""
    headings = []
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if len(line) - len(stripped) > 3 or not stripped.startswith("#"):
            continue
        level = len(stripped) - len(stripped.lstrip("#"))
        rest = stripped[level:]
        if level > 6 or not rest[:1].isspace():
            continue
        title = rest.strip().rstrip("#").rstrip()
        if title:
            headings.append(title)
    return headings


class _RefusedYAML(Exception):
    pass


class _PlainDataLoader(yaml.SafeLoader):
    """SafeLoader without aliases or anchors, and with a bound on nesting.

    An alias lets a few bytes name a structure many times over (a "billion
    laughs"), which huggingface_hub's model-index reader then walks N³
    times; a card has no need of one.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _RefusedYAML("it uses a YAML alias (*name); write the values out in full")
        if getattr(self.peek_event(), "anchor", None):
            raise _RefusedYAML("it uses a YAML anchor (&name); write the values out in full")
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _RefusedYAML(f"it nests more than {MAX_YAML_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def metadata_problem(front_matter: str) -> str:
    """Return why a card's YAML front matter cannot be read, or an empty string."""
    if len(front_matter.encode("utf-8", "surrogatepass")) > MAX_FRONT_MATTER_BYTES:
        return f"it is longer than {MAX_FRONT_MATTER_BYTES // 1024} KiB"
    try:
        metadata = yaml.load(front_matter, Loader=_PlainDataLoader)  # noqa: S506 - a SafeLoader
    except _RefusedYAML as refusal:
        return str(refusal)
    except yaml.YAMLError as error:
        return _first_line(error)
    if metadata is None:
        return ""
    if not isinstance(metadata, dict):
        return "it should be a mapping of names to values"
    # huggingface_hub logs a note for odd metadata; the problem is reported here instead.
    hub_logger = logging.getLogger("huggingface_hub")
    previous = hub_logger.level
    hub_logger.setLevel(logging.ERROR)
    try:
        ModelCardData(**{str(key): value for key, value in metadata.items()})
    except Exception as error:  # noqa: BLE001 - the card data parser raises many kinds
        return _first_line(error)
    finally:
        hub_logger.setLevel(previous)
    return ""


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
