from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from notifications import services as notifications
from notifications.models import Delivery, Notification, NotificationKind, NotificationPreference


class PreferencesForm(forms.Form):
    def __init__(self, *args, current: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=Delivery.choices,
                initial=current.get(kind.value, Delivery.DIGEST),
                widget=forms.RadioSelect,
            )


@login_required
def notification_list(request):
    notices = Notification.objects.filter(user=request.user).select_related("case")
    page = Paginator(notices, 50).get_page(request.GET.get("page"))
    return render(request, "cases/notifications/list.html", {"page": page})


@login_required
def notification_open(request, pk):
    """Mark the notice read and go where it points; another person's notice is a 404."""
    notice = get_object_or_404(
        Notification.objects.select_related("case"), pk=pk, user=request.user
    )
    notifications.mark_read(user=request.user, notification_ids=[notice.pk])
    return redirect(notice.get_absolute_url())


@login_required
@require_POST
def notifications_mark_read(request):
    notifications.mark_read(user=request.user)
    return redirect("notifications:notifications")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    current = dict(
        NotificationPreference.objects.filter(user=request.user).values_list("kind", "delivery")
    )
    form = PreferencesForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST":
        if form.is_valid():
            notifications.set_preferences(user=request.user, choices=form.cleaned_data)
            messages.success(request, "Notification settings saved.")
            return redirect("notifications:notification_preferences")
        return render(request, "cases/notifications/preferences.html", {"form": form}, status=400)
    return render(request, "cases/notifications/preferences.html", {"form": form})
