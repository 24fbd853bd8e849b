from django.urls import path, register_converter

from . import notification_views, views
from .models import CASE_NUMBER_PATTERN


class CaseNumberConverter:
    regex = CASE_NUMBER_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseNumberConverter, "case")

app_name = "cases"
urlpatterns = [
    path("notifications/", notification_views.notification_list, name="notifications"),
    path(
        "notifications/read/",
        notification_views.notifications_mark_read,
        name="notifications_mark_read",
    ),
    path(
        "notifications/settings/",
        notification_views.notification_preferences,
        name="notification_preferences",
    ),
    path("", views.dashboard, name="dashboard"),
    path("cases/new/", views.case_new, name="new"),
    path("cases/<case:number>/", views.case_detail, name="detail"),
    path("cases/<case:number>/intake/", views.intake_edit, name="intake"),
    path("cases/<case:number>/actions/<slug:action>/", views.case_action, name="action"),
]

# CAISI's desk: the triage queue, bulk and evaluator assignment, the dashboard.
from . import desk  # noqa: E402

urlpatterns += [
    path("desk/", desk.queue, name="desk"),
    path("desk/assign/", desk.bulk_assign, name="bulk_assign"),
    path("desk/dashboard/", desk.dashboard, name="desk_dashboard"),
    path("cases/<case:number>/evaluators/", desk.assign_evaluators, name="evaluators"),
]
