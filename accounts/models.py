from functools import cached_property

from django.conf import settings
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
    # The guide asks for "a dedicated team or individual responsible for liaising with
    # CAISI": the company administrator names one of its people, shown on every case.
    point_of_contact = models.ForeignKey(
        "User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

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
    # A program of a company (its release pipeline), not a person: it never signs in
    # in a browser, and acts through the tokens its company administrator gives it.
    is_service_account = models.BooleanField(default=False)

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
        if self.is_caisi_staff or self.is_staff or self.is_superuser:
            return True
        # Every company account by default; a deployment may relax it for companies.
        return settings.COMPANY_SECOND_FACTOR_REQUIRED and not self.is_service_account

    @property
    def is_company_administrator(self) -> bool:
        return self.membership is not None and self.membership.is_administrator

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
    # A liaison who also manages the company's people and service accounts.
    is_administrator = models.BooleanField("company administrator", default=False)
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

    @property
    def status_only(self) -> bool:
        """Whether this token reads case status only: a service account's read-only token."""
        return self.read_only and self.user.is_service_account


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


# --- A company's people: access requests, invitations, the audit trail ----------------


class AccessRequest(models.Model):
    """A company's request, made on the public page, to take part in the review."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for CAISI"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    organization_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200)
    email = models.EmailField()
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["submitted_at"]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.organization_name} ({self.get_status_display()})"


class InvitationQuerySet(models.QuerySet):
    def waiting(self, at=None) -> "InvitationQuerySet":
        """Return the invitations that can still be accepted."""
        at = at or timezone.now()
        return self.filter(accepted_at__isnull=True, withdrawn_at__isnull=True, expires_at__gt=at)


class Invitation(models.Model):
    """A single-use, expiring link that lets one person join one company.

    Only the SHA-256 of the link's token is stored; the link itself is in the
    email alone.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    full_name = models.CharField(max_length=200, blank=True)
    is_administrator = models.BooleanField(default=False)
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"


class OrganizationAuditEntry(models.Model):
    """One change to a company's people or service accounts, for CAISI and its administrator."""

    class Action(models.TextChoices):
        ORGANIZATION_CREATED = "organization_created", "Organization created"
        INVITED = "invited", "Person invited"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        INVITATION_WITHDRAWN = "invitation_withdrawn", "Invitation withdrawn"
        REMOVED = "removed", "Person removed"
        ADMINISTRATOR_GRANTED = "administrator_granted", "Made a company administrator"
        ADMINISTRATOR_REVOKED = "administrator_revoked", "No longer a company administrator"
        POINT_OF_CONTACT_NAMED = "point_of_contact_named", "Point of contact named"
        SERVICE_ACCOUNT_CREATED = "service_account_created", "Service account created"
        SERVICE_ACCOUNT_REMOVED = "service_account_removed", "Service account removed"
        TOKEN_CREATED = "token_created", "Service account token created"
        TOKEN_REVOKED = "token_revoked", "Service account token revoked"
        SERVICE_ACCOUNT_ACTED = "service_account_acted", "Service account changed a case"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_entries"
    )
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    subject = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person or service account the change concerns.",
    )
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["organization", "-at"])]
        verbose_name_plural = "organization audit entries"

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"


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
    identity_verified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a sign-in through this provider last proved the verified identity "
        "level (the step-up); the API's sensitive acts need it for a token's owner.",
    )

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
