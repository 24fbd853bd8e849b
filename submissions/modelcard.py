"""The model card check: does a Markdown card carry the sections a reviewer needs?

The card is parsed locally with huggingface_hub's ModelCard. Its validate()
is never called: it posts the card to a remote server, and these cards are
confidential.
"""

import logging
import re
from dataclasses import dataclass, field

from huggingface_hub import ModelCard

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

HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
logger = logging.getLogger(__name__)


@dataclass
class CardCheck:
    missing: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.problem


def check_model_card(text: str) -> CardCheck:
    """Return the required sections this Markdown card lacks, or why it cannot be read."""
    # huggingface_hub logs a note for every card without metadata; cards here need none.
    previous = logging.getLogger("huggingface_hub").level
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    try:
        card = ModelCard(text)
    except Exception as error:  # noqa: BLE001 - the YAML and card parsers raise many kinds
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return CardCheck(
            problem=(
                "The model card's metadata block (between the --- lines at the top) "
                f"could not be read: {first_line or type(error).__name__}."
            )[:500]
        )
    finally:
        logging.getLogger("huggingface_hub").setLevel(previous)
    headings = [h.lower() for h in HEADING.findall(card.text)]
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
