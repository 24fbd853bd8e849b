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


# Each section a reviewer needs, with the titles that satisfy it: a heading
# ("## Out-of-scope Use") or a bold label ("**Out-of-scope**", as Meta's Llama
# cards write them). A title is lower-cased, its punctuation made spaces, and
# matched by whole words; `EXCLUDE` keeps "Training results" from counting as
# Evaluation and "Training Energy Use" from counting as Training data.
@dataclass(frozen=True)
class Section:
    name: str
    synonyms: tuple[str, ...]
    exact: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


REQUIRED_SECTIONS: tuple[Section, ...] = (
    Section(
        "Intended uses",
        ("intended use", "intended uses", "direct use", "model use", "use cases", "uses"),
        exact=("use",),
        exclude=("out of scope", "misuse", "evaluated use", "prohibited use", "prohibited uses"),
    ),
    Section(
        "Out-of-scope uses",
        ("out of scope", "evaluated use", "misuse", "prohibited use", "prohibited uses"),
    ),
    Section(
        "Bias, risks and limitations",
        ("bias", "biases", "risk", "risks", "limitation", "limitations", "ethical considerations"),
    ),
    Section(
        "Training data",
        ("training data", "training dataset", "training datasets", "pretraining data",
         "pre training data", "training details"),
        exact=("training", "data", "datasets"),
    ),
    Section(
        "Evaluation",
        ("evaluation", "evaluations", "evaluation results", "benchmark", "benchmarks",
         "testing data", "eval results", "performance"),
        exact=("results", "testing"),
        exclude=("training results", "evaluated use"),
    ),
    Section(
        "Compute and environmental impact",
        ("environmental impact", "compute", "carbon", "emissions", "energy", "co2",
         "carbon footprint", "greenhouse gas"),
    ),
    Section(
        "Technical specifications",
        ("technical specification", "technical specifications", "architecture",
         "model details", "model information"),
    ),
)  # fmt: skip

# What a template leaves where a company has written nothing.
PLACEHOLDERS = (
    "[more information needed]",
    "more information needed",
    "[optional]",
    "[needs more information]",
    "[to be added]",
    "[tbd]",
    "[todo]",
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
    # Plain sentences for the company and the reviewer: why part of the card
    # could not be read. The sections are checked all the same.
    problems: list[str] = field(default_factory=list)
    # The card's own model-index results: what the company reports it measured.
    self_reported: list[dict[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.problems


def check_model_card(text: str) -> CardCheck:
    """Return the required sections this Markdown card lacks, and why parts cannot be read."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CARD_BYTES:
        return CardCheck(
            missing=[s.name for s in REQUIRED_SECTIONS],
            problems=[
                f"The model card is longer than {MAX_CARD_BYTES // 1024} KiB; "
                "it was kept, but its sections were not checked."
            ],
        )
    try:
        return sandbox.run(
            read_model_card, text, seconds=CHECK_SECONDS, memory_bytes=CHECK_MEMORY_BYTES
        )
    except sandbox.LimitExceeded as limit:
        return CardCheck(
            missing=[s.name for s in REQUIRED_SECTIONS],
            problems=[f"The model card could not be checked: {limit}."],
        )


def read_model_card(text: str) -> CardCheck:
    """Check a card in this process (the sandbox's child runs this)."""
    check = CardCheck()
    front_matter, body = split_front_matter(text)
    if front_matter is not None:
        metadata, problem = read_metadata(front_matter)
        if problem:
            check.problems.append(METADATA_PROBLEM.format(problem)[:500])
        if metadata:
            check.self_reported, problem = self_reported_results(metadata)
            if problem:
                check.problems.append(problem[:500])
    sections = card_sections(body)
    if not sections:
        check.problems.append(
            "The model card has no headings (“## Uses”) or bold labels (“**Out-of-scope**”) "
            "to find its sections by."
        )
    placeholder_only = []
    for required in REQUIRED_SECTIONS:
        found = [s for s in sections if title_matches(s.title, required)]
        if not any(s.has_content for s in found):
            check.missing.append(required.name)
            if found:
                placeholder_only.append(required.name)
    if placeholder_only:
        check.problems.append(
            "These sections hold only a placeholder such as “[More Information Needed]”: "
            + ", ".join(placeholder_only)
            + "."
        )
    return check


def normalized_title(title: str) -> str:
    """Return a title in lower case, punctuation as spaces ("Out-of-scope" gives "out of scope")."""
    title = title.lower().replace("&", " and ")
    cleaned = "".join(ch if ch.isalnum() else " " for ch in title)
    return " ".join(cleaned.split())


def title_matches(title: str, section: Section) -> bool:
    words = f" {normalized_title(title)} "
    if any(f" {phrase} " in words for phrase in section.exclude):
        return False
    if words.strip() in section.exact:
        return True
    return any(f" {phrase} " in words for phrase in section.synonyms)


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


@dataclass(frozen=True)
class CardSection:
    title: str
    has_content: bool


def _heading(line: str) -> tuple[int, str] | None:
    """Return an ATX heading's level and text ("## Uses ##" gives (2, "Uses")), or None."""
    stripped = line.lstrip(" \t")
    if len(line) - len(stripped) > 3 or not stripped.startswith("#"):
        return None
    level = len(stripped) - len(stripped.lstrip("#"))
    rest = stripped[level:]
    if level > 6 or (rest and not rest[:1].isspace()):
        return None
    title = rest.strip().rstrip("#").rstrip()
    return (level, title) if title else None


def _bold_label(line: str) -> tuple[str, str] | None:
    """Return a bold label's text and what follows it on the line, or None.

    "**Out-of-scope** Use in any manner…", "- **Developed by:** [More Information
    Needed]" and "__Training Energy Use__:" are labels; bold words inside a
    sentence are not. Found by scanning, not by a pattern that can backtrack.
    """
    stripped = line.strip()
    if stripped[:2] in ("- ", "* ", "+ "):
        stripped = stripped[2:].lstrip()
    for mark in ("**", "__"):
        if stripped.startswith(mark):
            end = stripped.find(mark, len(mark))
            if end <= len(mark):
                return None
            label = stripped[len(mark) : end].strip().rstrip(":").strip()
            rest = stripped[end + len(mark) :].lstrip(":").strip()
            return (label, rest) if label else None
    return None


def _substantive(lines: list[str]) -> bool:
    """Whether these lines say anything beyond placeholders, comments and markup."""
    text = "\n".join(lines)
    # HTML comments are the template's instructions to the author, not content.
    while "<!--" in text:
        start = text.find("<!--")
        end = text.find("-->", start + 4)
        text = text[:start] + (text[end + 3 :] if end != -1 else "")
    lowered = text.lower()
    for placeholder in PLACEHOLDERS:
        lowered = lowered.replace(placeholder, " ")
    return sum(ch.isalnum() for ch in lowered) >= 3


def card_sections(text: str) -> list[CardSection]:
    """Return every heading and bold label of the card, with whether it holds real content.

    A heading's content runs to the next heading of its level or above (its
    subsections included); a bold label's, to the next heading or label. The
    titles of headings and labels are not content: "- **Developed by:**
    [More Information Needed]" is a placeholder.
    """
    lines = text.splitlines()
    markers = []  # (line index, kind, level, title, text after a label)
    in_fence = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence or line.lstrip().startswith("|"):
            continue
        heading = _heading(line)
        if heading:
            markers.append((index, "heading", heading[0], heading[1], ""))
            continue
        label = _bold_label(line)
        if label:
            markers.append((index, "label", 7, label[0], label[1]))
    marker_lines = {m[0]: m for m in markers}
    sections = []
    for position, (index, kind, level, title, rest) in enumerate(markers):
        end = len(lines)
        for later in markers[position + 1 :]:
            if kind == "label" or later[2] <= level:
                end = later[0]
                break
        content = [rest]
        for line_index in range(index + 1, end):
            marker = marker_lines.get(line_index)
            content.append(marker[4] if marker else lines[line_index])
        sections.append(CardSection(title=title, has_content=_substantive(content)))
    return sections


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


def read_metadata(front_matter: str) -> tuple[dict | None, str]:
    """Return a card's YAML front matter as a mapping, and why it cannot be read (or "")."""
    if len(front_matter.encode("utf-8", "surrogatepass")) > MAX_FRONT_MATTER_BYTES:
        return None, f"it is longer than {MAX_FRONT_MATTER_BYTES // 1024} KiB"
    try:
        metadata = yaml.load(front_matter, Loader=_PlainDataLoader)  # noqa: S506 - a SafeLoader
    except _RefusedYAML as refusal:
        return None, str(refusal)
    except yaml.YAMLError as error:
        return None, _yaml_problem(error)
    if metadata is None:
        return None, ""
    if not isinstance(metadata, dict):
        return None, "it should be a list of “name: value” lines"
    return {str(key): value for key, value in metadata.items()}, ""


MAX_RESULTS = 200
RESULTS_PROBLEM = (
    "The results the card reports in its metadata (model-index) could not be read: {}. "
    "The rest of the card was checked."
)


def self_reported_results(metadata: dict) -> tuple[list[dict[str, str]], str]:
    """Return the card's model-index results as rows of task, dataset, metric and value.

    huggingface_hub's ModelCardData checks the model-index as the Hub does; its
    message is meant for developers, so the problem is said here in plain words.
    """
    if "model-index" not in metadata and "model_index" not in metadata:
        return [], ""
    # huggingface_hub logs a note for odd metadata; the problem is reported here instead.
    hub_logger = logging.getLogger("huggingface_hub")
    previous = hub_logger.level
    hub_logger.setLevel(logging.ERROR)
    try:
        data = ModelCardData(**metadata)
    except Exception as error:  # noqa: BLE001 - the card data parser raises many kinds
        return [], RESULTS_PROBLEM.format(_results_problem(error))
    finally:
        hub_logger.setLevel(previous)
    rows = []
    for result in (data.eval_results or [])[:MAX_RESULTS]:
        rows.append(
            {
                "model": str(data.model_name or "")[:200],
                "task": str(result.task_name or result.task_type or "")[:200],
                "dataset": str(result.dataset_name or result.dataset_type or "")[:200],
                "split": str(result.dataset_split or "")[:100],
                "metric": str(result.metric_name or result.metric_type or "")[:200],
                "value": str(result.metric_value)[:100],
            }
        )
    return rows, ""


def _results_problem(error: Exception) -> str:
    """Say in plain words what is wrong with a model-index, without the library's hints."""
    text = _first_line(error)
    if "cannot be parsed:" in text:
        cause = text.split("cannot be parsed:", 1)[1].split(". Pass", 1)[0].strip()
        if "KeyError" in cause:
            missing = cause.split(">", 1)[-1].strip()
            return f"an entry lacks its {missing} field"
        if "TypeError" in cause or "AttributeError" in cause:
            return "it is not laid out as a list of models, each with its results"
        return "it is not laid out as the Hugging Face Hub expects"
    if "model_name" in text or "model-index" in text or "model_index" in text:
        return "each model-index entry needs a name, and the card a model_name"
    return "it is not laid out as the Hugging Face Hub expects"


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or _first_line(error)
    where = f"on line {mark.line + 2}, " if mark is not None else ""
    return f"{where}it is not valid YAML ({problem})"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
