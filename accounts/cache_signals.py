"""Bump the cache generations (caisi_portal.cache) whenever what they stand for changes.

Who may see or use what: tokens, people, memberships, conflicts of interest,
companies and the evaluators of a case move the access generation. Any change of a case
(every timeline event is saved with `save()`, and so is the case itself)
moves the case's own generation.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from caisi_portal import cache as generations

from .models import ApiToken, ConflictOfInterest, Membership, Organization, User


def access_changed(sender, update_fields=None, **kwargs) -> None:
    if sender is User and update_fields is not None and set(update_fields) == {"last_login"}:
        return  # signing in changes no one's access
    generations.bump(generations.ACCESS)


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


for model in (ApiToken, User, Membership, ConflictOfInterest, Organization):
    post_save.connect(access_changed, sender=model, dispatch_uid=f"cache-access-save-{model}")
    post_delete.connect(access_changed, sender=model, dispatch_uid=f"cache-access-del-{model}")
post_save.connect(case_saved, sender="cases.Case", dispatch_uid="cache-case-save")
post_delete.connect(case_saved, sender="cases.Case", dispatch_uid="cache-case-delete")
post_save.connect(event_saved, sender="cases.CaseEvent", dispatch_uid="cache-event-save")
m2m_changed.connect(
    evaluators_changed, sender="cases.Case_evaluators", dispatch_uid="cache-evaluators"
)
