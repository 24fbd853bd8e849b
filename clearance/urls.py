from django.urls import path

from clearance import views

urlpatterns = [
    path("verify/", views.verify_lookup, name="verify_lookup"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path(
        "cases/<str:number>/statements/<str:statement>/signing/",
        views.signing_status,
        name="statement_status",
    ),
    path(
        "cases/<str:number>/statements/<str:statement>/pdf/",
        views.download,
        name="statement_download",
    ),
]
