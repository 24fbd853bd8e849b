from django.urls import path

from incidents import views

app_name = "incidents"
INCIDENT = "cases/<case:number>/incidents/<int:incident>"
urlpatterns = [
    path("cases/<case:number>/incidents/new/", views.incident_new, name="new"),
    path(f"{INCIDENT}/", views.incident_detail, name="detail"),
    path(f"{INCIDENT}/update/", views.incident_update, name="update"),
    path(f"{INCIDENT}/triage/", views.incident_triage, name="triage"),
    path(f"{INCIDENT}/notes/", views.incident_note, name="note"),
    path(
        "cases/<case:number>/monitoring-reports/<int:pk>/file/",
        views.report_file,
        name="report_file",
    ),
    path(
        "cases/<case:number>/monitoring-reports/<int:pk>/review/",
        views.report_review,
        name="report_review",
    ),
]
