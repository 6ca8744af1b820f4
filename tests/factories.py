"""factory_boy factories for the domain; they write to the real test database."""

from __future__ import annotations

import factory
from django.utils import timezone

from portal.accounts.models import User
from portal.accounts.services import user_make_editor
from portal.library.models import Asset, Collection, Kind, Status, Tag, Visibility
from portal.library.services import unique_slug


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def editor(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted:
            user_make_editor(user=self)
        if create:
            self.save()


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.LazyAttribute(lambda o: o.name.replace(" ", "-"))


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    title = factory.Sequence(lambda n: f"Collection {n}")
    slug = factory.LazyAttribute(lambda o: unique_slug(o.title))
    owner = factory.SubFactory(UserFactory)


class AssetFactory(factory.django.DjangoModelFactory):
    """A listed (published, public) asset unless told otherwise."""

    class Meta:
        model = Asset
        skip_postgeneration_save = True

    kind = Kind.VIDEO
    title = factory.Sequence(lambda n: f"Asset {n}")
    slug = factory.LazyAttribute(lambda o: unique_slug(o.title))
    owner = factory.SubFactory(UserFactory)
    status = Status.PUBLISHED
    visibility = Visibility.PUBLIC
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def tags(self, create: bool, extracted: list[Tag] | None, **kwargs: object) -> None:
        if create and extracted:
            self.tags.set(extracted)

    @factory.post_generation
    def collections(self, create: bool, extracted: list[Collection] | None, **kwargs: object) -> None:
        if create and extracted:
            self.collections.set(extracted)
