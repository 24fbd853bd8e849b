from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("me/webhooks/", views.webhooks, name="webhooks"),
    path("me/webhooks/<int:pk>/", views.webhook_deliveries, name="webhook_deliveries"),
    path("me/webhooks/<int:pk>/deactivate/", views.webhook_deactivate, name="webhook_deactivate"),
    path(
        "me/webhooks/<int:pk>/rotate-secret/",
        views.webhook_rotate_secret,
        name="webhook_rotate_secret",
    ),
    path("me/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
    path("me/webhooks/<int:pk>/test/", views.webhook_test, name="webhook_test"),
]
