from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="open"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    path(
        "notifications/settings/",
        views.notification_preferences,
        name="notification_preferences",
    ),
]
