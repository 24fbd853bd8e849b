from django.urls import path

from clearance import views

urlpatterns = [
    path("verify/<str:code>/", views.verify, name="verify"),
    path(
        "cases/<str:number>/statements/<str:statement>/pdf/",
        views.download,
        name="statement_download",
    ),
]
