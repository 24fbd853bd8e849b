"""Small panels other pages include: the access requests waiting, a company's point of contact."""

from django import template

from accounts import organizations
from accounts.audit import can_read_audit_trail
from accounts.models import Organization, User

register = template.Library()


@register.inclusion_tag("accounts/_access_requests_task.html", takes_context=True)
def access_requests_task(context):
    """The case managers' task of deciding requests for access, when any is waiting."""
    user = context["request"].user
    count = 0
    if organizations.can_decide_access_requests(user):
        count = organizations.waiting_access_requests().count()
    return {"waiting_count": count}


@register.inclusion_tag("accounts/_point_of_contact.html", takes_context=True)
def point_of_contact(context, organization):
    """The company's designated point of contact, for CAISI staff on the case page."""
    user = context["request"].user
    contact = None
    if Organization.point_of_contact.is_cached(organization):  # read with the case
        contact = organization.point_of_contact
        contact = contact if contact is not None and contact.is_active else None
    elif organization.point_of_contact_id:
        contact = (
            User.objects.filter(pk=organization.point_of_contact_id, is_active=True)
            .only("email", "full_name")
            .first()
        )
    return {
        "organization": organization,
        "contact": contact,
        "can_read_trail": can_read_audit_trail(user, organization),
    }
