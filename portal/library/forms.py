"""Editor forms: they validate input and hand a plain dataclass to the services."""

from __future__ import annotations

from typing import Any

from django import forms

from portal.library.models import Asset, Collection, Kind, Tag, Visibility
from portal.library.services import AssetData, CollectionData


class AssetForm(forms.Form):
    title = forms.CharField(max_length=200, strip=True)
    kind = forms.ChoiceField(choices=Kind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=10_000)
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PUBLIC,
        help_text="Public assets are listed once published; unlisted ones only open by link; "
                  "private ones only for you and other editors.",
    )
    featured = forms.BooleanField(required=False, help_text="Show on the home page when published.")
    share_location = forms.BooleanField(required=False, label="Share location",
                                        help_text=Asset._meta.get_field("share_location").help_text)
    offer_original = forms.BooleanField(required=False, label="Offer the original",
                                        help_text=Asset._meta.get_field("offer_original").help_text)
    tags = forms.CharField(required=False, max_length=1000, help_text="Separate tags with commas.")
    collections = forms.ModelMultipleChoiceField(
        queryset=Collection.objects.order_by("title"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="An asset can be in several collections.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, asset: Asset | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if asset is not None and asset.kind_is_frozen:
            # Disabled: shown, never taken from the request (the asset's own kind is used instead).
            kind = self.fields["kind"]
            kind.disabled, kind.initial = True, asset.kind
            kind.help_text = "Fixed once a file is uploaded: the file was checked as this kind."

    @classmethod
    def for_asset(cls, asset: Asset) -> AssetForm:
        return cls(asset=asset, initial={
            "title": asset.title, "kind": asset.kind, "description": asset.description,
            "visibility": asset.visibility, "featured": asset.featured, "share_location": asset.share_location,
            "offer_original": asset.offer_original,
            "tags": ", ".join(tag.name for tag in asset.tags.all()),
            "collections": list(asset.collections.all()), "version": asset.version,
        })

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"]
        if not title.strip():
            raise forms.ValidationError("A title is required.")
        return title

    def to_data(self) -> AssetData:
        data = self.cleaned_data
        return AssetData(
            title=data["title"], kind=data["kind"], description=data["description"],
            visibility=data["visibility"], featured=data["featured"], share_location=data["share_location"],
            offer_original=data["offer_original"],
            tag_names=[name for name in data["tags"].split(",") if name.strip()],
            collection_ids=[collection.pk for collection in data["collections"]],
        )


class CollectionForm(forms.Form):
    title = forms.CharField(max_length=200, strip=True)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10_000)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @classmethod
    def for_collection(cls, collection: Collection) -> CollectionForm:
        return cls(initial={"title": collection.title, "description": collection.description,
                            "version": collection.version})

    def to_data(self) -> CollectionData:
        return CollectionData(title=self.cleaned_data["title"], description=self.cleaned_data["description"])


class TagMergeForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Tag.objects.order_by("name"), label="Merge the tag",
                                    help_text="This tag disappears; its assets get the other one.")
    target = forms.ModelChoiceField(queryset=Tag.objects.order_by("name"), label="into the tag")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source") is not None and data.get("source") == data.get("target"):
            raise forms.ValidationError("Choose two different tags.")
        return data
