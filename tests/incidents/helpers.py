"""A cleared, released model and its incidents, made through the services."""

import datetime as dt

from django.utils import timezone

from incidents import services
from tests.cases.helpers import release


def released(case_at, cast, title: str = "Atlas review"):
    """Return a cleared case whose model the company has reported released."""
    return release(case_at("cleared", title=title), cast)


def incident_on(case, actor, *, severity: str = "high", hours_ago: int = 3, **fields):
    return services.report_incident(
        case=case,
        actor=actor,
        summary=fields.pop("summary", "A jailbreak prompt circulated on a public forum."),
        detected_at=timezone.now() - dt.timedelta(hours=hours_ago),
        severity=severity,
        affected_versions=fields.pop("affected_versions", "v1.0"),
        affected_uses=fields.pop("affected_uses", "Chat assistant"),
        users_affected=fields.pop("users_affected", "About 300"),
        mitigations=fields.pop("mitigations", "The prompt pattern is now filtered."),
        **fields,
    )
