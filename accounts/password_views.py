"""Password pages of our own: the reset link on SITE_URL, and a change that keeps this browser."""

from django.contrib.auth import views as auth_views

from accounts import services
from accounts.forms import PortalAuthenticationForm, SiteUrlPasswordResetForm


class PasswordResetView(auth_views.PasswordResetView):
    form_class = SiteUrlPasswordResetForm


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password; tokens and other sessions end (accounts.signals), this one goes on."""

    def form_valid(self, form):
        response = super().form_valid(form)
        # The change ended every session of the person, this one's old id included;
        # Django carried this browser over to a new id, which is recorded here.
        services.record_signed_in_session(
            user=form.user, session_key=self.request.session.session_key
        )
        return response


password_reset = PasswordResetView.as_view()
password_change = PasswordChangeView.as_view()


class LoginView(auth_views.LoginView):
    """The sign-in page: the providers' buttons, and the password form for the others."""

    authentication_form = PortalAuthenticationForm

    def get_context_data(self, **kwargs):
        from accounts.sso import providers

        context = super().get_context_data(**kwargs)
        context["sso_providers"] = list(providers().values())
        return context


login = LoginView.as_view()
