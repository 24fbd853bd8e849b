"""Bump the access generation (core.cache) whenever who may see or use what changes.

Tokens, people, memberships, conflicts of interest and companies move it here;
the evaluators of a case, and the case's own generation, move in `cases.signals`.
"""

from django.db.models.signals import post_delete, post_save

from accounts.models import ApiToken, ConflictOfInterest, Membership, Organization, User
from core import cache as generations


def access_changed(sender, update_fields=None, **kwargs) -> None:
    if sender is User and update_fields is not None and set(update_fields) == {"last_login"}:
        return  # signing in changes no one's access
    generations.bump(generations.ACCESS)


for model in (ApiToken, User, Membership, ConflictOfInterest, Organization):
    post_save.connect(access_changed, sender=model, dispatch_uid=f"cache-access-save-{model}")
    post_delete.connect(access_changed, sender=model, dispatch_uid=f"cache-access-del-{model}")
