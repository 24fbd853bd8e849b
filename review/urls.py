from django.urls import path

from review import desk, views

# The namespace keeps the name users' bookmarks and templates know: the case.
app_name = "cases"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/new/", views.case_new, name="new"),
    path("cases/<case:number>/", views.case_detail, name="detail"),
    path("cases/<case:number>/intake/", views.intake_edit, name="intake"),
    path("cases/<case:number>/actions/<slug:action>/", views.case_action, name="action"),
    path("cases/<case:number>/record.zip", views.case_record_export, name="record_export"),
    # CAISI's desk: the triage queue, bulk and evaluator assignment, the dashboard.
    path("desk/", desk.queue, name="desk"),
    path("desk/assign/", desk.bulk_assign, name="bulk_assign"),
    path("desk/dashboard/", desk.dashboard, name="desk_dashboard"),
    path("cases/<case:number>/evaluators/", desk.assign_evaluators, name="evaluators"),
    # Conflicts of interest: who may not see or work on a company's cases.
    path("me/conflicts/", desk.conflicts, name="conflicts"),
    path("me/conflicts/<int:pk>/end/", desk.conflict_end, name="conflict_end"),
]
