"""Bump the case generations (core.cache) whenever a case or its timeline changes.

Any change of a case (every timeline event is saved with `save()`, and so is
the case itself) moves the case's own generation; a change of its evaluators
moves the access generation, since it changes who may see the case.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from core import cache as generations


def case_saved(sender, instance, **kwargs) -> None:
    if not generations.enabled():
        return
    if instance.number:
        generations.bump(generations.case_generation(instance.number))


def event_saved(sender, instance, **kwargs) -> None:
    if not generations.enabled():
        return  # nothing is cached: spare the case's number its lookup
    # The event holds the case it was recorded on: its number needs no query.
    generations.bump(generations.case_generation(instance.case.number))


def evaluators_changed(sender, instance, action, **kwargs) -> None:
    if action.startswith("post_"):
        generations.bump(generations.ACCESS)


post_save.connect(case_saved, sender="cases.Case", dispatch_uid="cache-case-save")
post_delete.connect(case_saved, sender="cases.Case", dispatch_uid="cache-case-delete")
post_save.connect(event_saved, sender="cases.CaseEvent", dispatch_uid="cache-event-save")
m2m_changed.connect(
    evaluators_changed, sender="cases.Case_evaluators", dispatch_uid="cache-evaluators"
)
