from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("me/webhooks/", views.webhooks, name="webhooks"),
    path("me/webhooks/<int:pk>/", views.webhook_deliveries, name="webhook_deliveries"),
    path("me/webhooks/<int:pk>/deactivate/", views.webhook_deactivate, name="webhook_deactivate"),
]
