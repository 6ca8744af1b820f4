"""The editors' studio: create, edit, publish, unpublish and delete assets and collections; merge tags."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.decorators import editor_required
from portal.core.http import HtmxHttpRequest, redirect_to_next, vary_on_htmx
from portal.library import selectors, services
from portal.library.errors import EditConflict, KindFrozen, LibraryError
from portal.library.forms import AssetForm, CollectionForm, TagMergeForm
from portal.library.models import Asset, Collection, Status


def _with_version(post: QueryDict, version: int) -> QueryDict:
    data = post.copy()
    data["version"] = str(version)
    return data


@editor_required
def asset_list(request: HtmxHttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    page = Paginator(selectors.studio_assets(status=status), 50).get_page(request.GET.get("page"))
    return render(request, "studio/assets.html", {"page": page, "status": status, "statuses": Status.choices})


@editor_required
@require_http_methods(["GET", "POST"])
def asset_create(request: HtmxHttpRequest) -> HttpResponse:
    form = AssetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        asset = services.asset_create(owner=request.user, data=form.to_data())  # type: ignore[arg-type]
        messages.success(request, f"Created “{asset.title}” as a draft.")
        return redirect("studio:asset_edit", asset_id=asset.pk)
    return render(request, "studio/asset_form.html", {"form": form}, status=400 if form.errors else 200)


@editor_required
@require_http_methods(["GET", "POST"])
def asset_edit(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(Asset, pk=asset_id)
    if request.method == "GET":
        return render(request, "studio/asset_form.html", {"form": AssetForm.for_asset(asset), "asset": asset})
    form = AssetForm(request.POST, asset=asset)
    if not form.is_valid():
        return render(request, "studio/asset_form.html", {"form": form, "asset": asset}, status=400)
    try:
        asset = services.asset_update(asset_id=asset.pk, expected_version=form.cleaned_data["version"] or 0,
                                      data=form.to_data(), editor=request.user)  # type: ignore[arg-type]
    except KindFrozen as error:  # a file arrived between loading the form and saving it
        form.add_error("kind", str(error))
        return render(request, "studio/asset_form.html", {"form": form, "asset": asset}, status=400)
    except EditConflict as conflict:
        # Keep this editor's text in the form, show the other editor's, and arm the form with the
        # current version so that saving again is a deliberate overwrite, not an accident.
        current: Asset = conflict.current
        form = AssetForm(_with_version(request.POST, current.version), asset=current)
        form.is_valid()
        context = {"form": form, "asset": current, "conflict": current,
                   "conflict_tags": ", ".join(t.name for t in current.tags.all())}
        return render(request, "studio/asset_form.html", context, status=409)
    messages.success(request, f"Saved “{asset.title}”.")
    return redirect("studio:asset_edit", asset_id=asset.pk)


@editor_required
@require_GET
def asset_preview(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    """The asset's player or picture alone: the studio swaps it in when processing finishes."""
    asset = get_object_or_404(Asset, pk=asset_id)
    return render(request, "media/_player.html", {"asset": asset})


@editor_required
@require_POST
def asset_publish(request: HtmxHttpRequest, asset_id: int, publish: bool) -> HttpResponse:
    asset = get_object_or_404(Asset.objects.only("id", "title"), pk=asset_id)  # its cost must not grow with renditions
    try:
        asset = services.asset_set_published(asset_id=asset.pk, editor=request.user,  # type: ignore[arg-type]
                                              published=publish)
        text = f"Published “{asset.title}”." if publish else f"Unpublished “{asset.title}”."
        messages.success(request, text)
    except LibraryError as error:
        messages.error(request, str(error))
    if request.htmx:
        return vary_on_htmx(render(request, "studio/assets.html#row", {"asset": asset}))
    return redirect_to_next(request, "studio:asset_list")


@editor_required
@require_http_methods(["GET", "POST"])
def asset_delete(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(Asset, pk=asset_id)
    if request.method == "POST":
        services.asset_delete(asset_id=asset.pk)
        messages.success(request, f"Deleted “{asset.title}”.")
        return redirect("studio:asset_list")
    return render(request, "studio/confirm_delete.html", {"object": asset, "kind": "asset"})


@editor_required
def collection_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "studio/collections.html", {"collections": selectors.collection_list()})


@editor_required
@require_http_methods(["GET", "POST"])
def collection_form(request: HtmxHttpRequest, collection_id: int | None = None) -> HttpResponse:
    collection = get_object_or_404(Collection, pk=collection_id) if collection_id else None
    if request.method == "GET":
        form = CollectionForm.for_collection(collection) if collection else CollectionForm()
        return render(request, "studio/collection_form.html", {"form": form, "collection": collection})
    form = CollectionForm(request.POST)
    if not form.is_valid():
        return render(request, "studio/collection_form.html", {"form": form, "collection": collection}, status=400)
    if collection is None:
        collection = services.collection_create(owner=request.user, data=form.to_data())  # type: ignore[arg-type]
        messages.success(request, f"Created collection “{collection.title}”.")
        return redirect("studio:collection_list")
    try:
        collection = services.collection_update(
            collection_id=collection.pk, expected_version=form.cleaned_data["version"] or 0, data=form.to_data(),
            editor=request.user)  # type: ignore[arg-type]
    except EditConflict as conflict:
        form = CollectionForm(_with_version(request.POST, conflict.current.version))
        form.is_valid()
        context = {"form": form, "collection": conflict.current, "conflict": conflict.current}
        return render(request, "studio/collection_form.html", context, status=409)
    messages.success(request, f"Saved collection “{collection.title}”.")
    return redirect("studio:collection_list")


@editor_required
@require_http_methods(["GET", "POST"])
def collection_delete(request: HtmxHttpRequest, collection_id: int) -> HttpResponse:
    collection = get_object_or_404(Collection, pk=collection_id)
    if request.method == "POST":
        services.collection_delete(collection_id=collection.pk)
        messages.success(request, f"Deleted collection “{collection.title}”. Its assets were kept.")
        return redirect("studio:collection_list")
    return render(request, "studio/confirm_delete.html", {"object": collection, "kind": "collection"})


@editor_required
@require_http_methods(["GET", "POST"])
def tag_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every tag with its count, and the form that merges one into another (POST)."""
    form = TagMergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source, target = form.cleaned_data["source"], form.cleaned_data["target"]
        try:
            moved = services.tag_merge(source_id=source.pk, target_id=target.pk)
        except LibraryError as error:
            form.add_error(None, str(error))
        else:
            count = f"{len(moved)} asset" + ("" if len(moved) == 1 else "s")
            messages.success(request, f"Merged “{source.name}” into “{target.name}” ({count}).")
            return redirect("studio:tag_list")
    status = 400 if form.errors else 200
    return render(request, "studio/tags.html", {"form": form, "tags": selectors.tag_list()}, status=status)
