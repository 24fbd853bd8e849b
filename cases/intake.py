"""The intake: one list of its fields, from which the form, the API and the gate derive.

Each field says its label (as the gate names it when missing), the section of
the intake page it sits in, and whether submitting the intake requires it.
The model version, its VCS reference and digest are asked for with the
version itself (`submissions`), and the gate checks them there.
"""

from typing import NamedTuple


class IntakeField(NamedTuple):
    name: str
    label: str
    section: str
    required: bool


THE_MODEL = "The model"
SCALE = "Scale and training"
USE = "Use and release"

INTAKE_FIELDS: tuple[IntakeField, ...] = (
    IntakeField("title", "review title", THE_MODEL, False),
    IntakeField("model_name", "model name", THE_MODEL, True),
    IntakeField("description", "description", THE_MODEL, False),
    IntakeField("architecture", "architecture", THE_MODEL, True),
    IntakeField("modality", "modality", THE_MODEL, False),
    IntakeField("parameter_count", "parameter count", SCALE, True),
    IntakeField("training_compute", "training compute", SCALE, True),
    IntakeField("training_data_description", "training-data description", SCALE, True),
    IntakeField("intended_uses", "intended uses", USE, True),
    IntakeField("release_type", "release type", USE, True),
    IntakeField("planned_release_date", "planned release date", USE, True),
)

# What the company may write while the case is in intake (a draft may leave any empty).
INTAKE_EDITABLE: tuple[str, ...] = tuple(f.name for f in INTAKE_FIELDS)
# What submit_intake requires, with the words the gate uses for each.
INTAKE_REQUIRED: tuple[IntakeField, ...] = tuple(f for f in INTAKE_FIELDS if f.required)
# The intake page's sections, in order, each with its fields.
INTAKE_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (section, tuple(f.name for f in INTAKE_FIELDS if f.section == section))
    for section in dict.fromkeys(f.section for f in INTAKE_FIELDS)
)
