import factory
from django.conf import settings

from accounts.models import Membership, Organization, Role, User


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(settings.DEMO_PASSWORD)


class StaffFactory(UserFactory):
    staff_role = Role.CASE_MANAGER


class LiaisonFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def organization(self, create, extracted, **kwargs):
        if create:
            Membership.objects.get_or_create(
                user=self, defaults={"organization": extracted or OrganizationFactory()}
            )
