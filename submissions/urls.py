from django.urls import path

from submissions import views

app_name = "submissions"
urlpatterns = [
    path("cases/<case:number>/versions/new/", views.version_new, name="version_new"),
    path("cases/<case:number>/versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path(
        "cases/<case:number>/versions/<int:pk>/carry-documentation/",
        views.version_carry_documentation,
        name="version_carry_documentation",
    ),
    path("cases/<case:number>/versions/compare/", views.version_compare, name="version_compare"),
    path("cases/<case:number>/access/new/", views.grant_new, name="grant_new"),
    path("cases/<case:number>/access/<int:pk>/reveal/", views.grant_reveal, name="grant_reveal"),
    path("cases/<case:number>/access/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path(
        "cases/<case:number>/access/<int:pk>/weights/",
        views.artifact_upload,
        name="artifact_upload",
    ),
    path(
        "cases/<case:number>/access/<int:pk>/weights/download/",
        views.artifact_download,
        name="artifact_download",
    ),
    path("cases/<case:number>/documents/", views.document_list, name="documents"),
    path("cases/<case:number>/documents/upload/", views.document_upload, name="document_upload"),
    path(
        "cases/<case:number>/documents/<int:pk>/download/",
        views.document_download,
        name="document_download",
    ),
    path(
        "cases/<case:number>/documents/<int:pk>/review/",
        views.document_review,
        name="document_review",
    ),
    path("cases/<case:number>/checklist/", views.checklist, name="checklist"),
]
