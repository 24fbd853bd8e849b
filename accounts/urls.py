from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("me/conflicts/", views.conflicts, name="conflicts"),
    path("me/conflicts/<int:pk>/end/", views.conflict_end, name="conflict_end"),
]
