from functools import cached_property

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Role(models.TextChoices):
    LIAISON = "liaison", "Company liaison"
    CASE_MANAGER = "case_manager", "Case manager"
    EVALUATOR = "evaluator", "Evaluator"
    CLEARANCE_OFFICIAL = "clearance_official", "Clearance official"
    AUDITOR = "auditor", "Auditor"


STAFF_ROLES = (Role.CASE_MANAGER, Role.EVALUATOR, Role.CLEARANCE_OFFICIAL, Role.AUDITOR)


class Organization(models.Model):
    """A company taking part in the review."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with their email address."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    staff_role = models.CharField(
        "CAISI staff role",
        max_length=32,
        blank=True,
        choices=[(r.value, r.label) for r in STAFF_ROLES],
        help_text="Empty for company liaisons, who belong to an organization instead.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @cached_property
    def membership(self) -> "Membership | None":
        """Return the person's place in a company; CAISI staff act in their own role, in none."""
        if self.staff_role:
            return None
        try:
            return Membership.objects.select_related("organization").get(user=self)
        except Membership.DoesNotExist:
            return None

    @cached_property
    def role(self) -> str | None:
        """Return the one role this user acts in, or None."""
        if self.staff_role:
            return self.staff_role
        if self.membership is not None:
            return self.membership.role
        return None

    @property
    def organization(self) -> Organization | None:
        return self.membership.organization if self.membership else None

    @property
    def is_caisi_staff(self) -> bool:
        return bool(self.staff_role)

    @property
    def must_pass_second_factor(self) -> bool:
        """Return whether this account sees other companies' material, so owes a second factor.

        CAISI staff read every company they are assigned to; an admin account
        (`is_staff`, `is_superuser`, made by `createsuperuser` with no staff
        role) can read and change any record.
        """
        return self.is_caisi_staff or self.is_staff or self.is_superuser

    def role_label(self) -> str:
        return Role(self.role).label if self.role else "No role"


class Membership(models.Model):
    """A user's place in one organization; a liaison speaks for exactly one company."""

    class MembershipRole(models.TextChoices):
        LIAISON = Role.LIAISON.value, Role.LIAISON.label

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(
        max_length=32, choices=MembershipRole.choices, default=MembershipRole.LIAISON
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.organization}"


class ConflictQuerySet(models.QuerySet):
    def active(self, on=None):
        """Return the conflicts in force on this day: from their first through their last day."""
        on = on or timezone.localdate()
        return self.filter(valid_from__lte=on).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=on)
        )


class ConflictOfInterest(models.Model):
    """A CAISI staff member's declared conflict with a company."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="conflicts")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="conflicts"
    )
    reason = models.TextField()
    valid_from = models.DateField(default=timezone.localdate)
    valid_until = models.DateField(
        null=True, blank=True, help_text="The last day the conflict is in force."
    )
    declared_at = models.DateTimeField(default=timezone.now)
    # Ended early: by another case manager, never by the person, with the reason on record.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.TextField(blank=True)

    objects = ConflictQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "conflicts of interest"
        ordering = ["-declared_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="conflict_ends_on_or_after_it_begins",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} conflicted with {self.organization}"


# --- API tokens and webhooks -------------------------------------------------------


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, at=None) -> "ApiTokenQuerySet":
        """Return the tokens that are neither revoked nor expired."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class ApiToken(models.Model):
    """A personal token a program sends as `Authorization: Bearer <token>`.

    Only the SHA-256 of the token is stored; the token itself is shown once,
    when it is created. The prefix is the token's first characters, enough for
    a person to tell their tokens apart.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    secret_sha256 = models.CharField("SHA-256 of the token", max_length=64, unique=True)
    read_only = models.BooleanField(
        default=True, help_text="A read-only token may look but never change anything."
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


# --- Sign-in sessions --------------------------------------------------------------


class SignedInSession(models.Model):
    """A session a person signed in with, so all of them can be ended at once.

    Django's session table is keyed by session and cannot be searched by user;
    this row is written at sign-in and read when the person is deactivated.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-signed_in_at"]

    def __str__(self) -> str:
        return f"{self.user} since {self.signed_in_at:%Y-%m-%d %H:%M}"


# --- Single sign-on ----------------------------------------------------------------


class ExternalIdentity(models.Model):
    """A person's account at an OpenID provider, by the provider's (issuer, subject).

    A sign-in through a provider finds its person here and nowhere else: never by
    an email claim, which a provider may let anyone set or change.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    provider = models.CharField(
        max_length=32, help_text="The portal's name for the provider: company or staff."
    )
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "external identities"
        ordering = ["issuer", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="one_person_per_provider_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.issuer}"
