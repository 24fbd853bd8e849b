from django.urls import path

from findings import views

app_name = "findings"
urlpatterns = [
    path("cases/<case:number>/messages/", views.case_messages, name="messages"),
    path(
        "cases/<case:number>/clarifications/new/",
        views.clarification_new,
        name="clarification_new",
    ),
    path(
        "cases/<case:number>/clarifications/<int:pk>/answer/",
        views.clarification_answer,
        name="clarification_answer",
    ),
    path(
        "cases/<case:number>/clarifications/<int:pk>/close/",
        views.clarification_close,
        name="clarification_close",
    ),
    path("cases/<case:number>/evaluations/new/", views.evaluation_new, name="evaluation_new"),
    path(
        "cases/<case:number>/evaluations/import/",
        views.evaluation_import,
        name="evaluation_import",
    ),
    path(
        "cases/<case:number>/evaluations/imports/<int:pk>/",
        views.inspect_import,
        name="inspect_import",
    ),
    path("cases/<case:number>/evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path(
        "cases/<case:number>/evaluations/<int:pk>/finish/",
        views.evaluation_finish,
        name="evaluation_finish",
    ),
    path(
        "cases/<case:number>/evaluations/<int:pk>/log/",
        views.evaluation_log,
        name="evaluation_log",
    ),
    path(
        "cases/<case:number>/evaluations/<int:pk>/viewer/logs/<str:name>",
        views.evaluation_log_bytes,
        name="evaluation_log_bytes",
    ),
    path(
        "cases/<case:number>/evaluations/<int:pk>/viewer/",
        views.evaluation_viewer,
        name="evaluation_viewer",
    ),
    path(
        "cases/<case:number>/evaluations/<int:pk>/viewer/<path:path>",
        views.evaluation_viewer,
        name="evaluation_viewer_file",
    ),
    path(
        "cases/<case:number>/findings/<int:pk>/samples/<int:sample>/",
        views.finding_sample,
        name="finding_sample",
    ),
    path("cases/<case:number>/findings/new/", views.finding_new, name="finding_new"),
    path("cases/<case:number>/findings/<int:pk>/", views.finding_detail, name="finding"),
    path("cases/<case:number>/findings/<int:pk>/edit/", views.finding_edit, name="finding_edit"),
    path(
        "cases/<case:number>/findings/<int:pk>/delete/",
        views.finding_delete,
        name="finding_delete",
    ),
    path(
        "cases/<case:number>/findings/<int:pk>/respond/",
        views.finding_respond,
        name="finding_respond",
    ),
    path(
        "cases/<case:number>/findings/<int:pk>/review/",
        views.finding_review,
        name="finding_review",
    ),
    path("cases/<case:number>/findings.csv", views.findings_export, name="export"),
]
