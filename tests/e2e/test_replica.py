"""Read-your-writes in Chromium with the database replica behind (SCALE=2): replay is paused on the
replica, an editor saves a new title in the studio, and the page that follows shows it at once (their
reads stay on the primary after their write, and a content change keeps every reader off a replica
that has not replayed it), while the replica itself still holds the old title. Replay is resumed
whatever happens."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from portal.accounts.models import User
from portal.library.models import Asset
from tests.factories import AssetFactory, UserFactory
from tests.replica import replay_paused, replica_server, router_on, wait_for_replay  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases=["default", "replica"])]


def signed_in(browser: Browser, live_server: LiveServer, user: User) -> BrowserContext:
    """A browser holding the user's session without a login form: a login is a write too, and its
    window on the primary would hide whether the save opened one."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    return context


def test_an_editor_sees_the_title_they_saved_while_the_replica_lags(browser: Browser, live_server: LiveServer,
                                                                    router_on, tmp_path):
    editor, colleague = UserFactory(editor=True), UserFactory(editor=True)
    asset: Asset = AssetFactory(title="Harbour at dusk")
    wait_for_replay(router_on)
    edit = f"{live_server.url}/studio/assets/{asset.pk}/edit/"
    mine, theirs = signed_in(browser, live_server, editor), signed_in(browser, live_server, colleague)
    page, other = mine.new_page(), theirs.new_page()
    try:
        page.goto(edit)
        with replay_paused(router_on):
            page.fill("#id_title", "Harbour at dawn")
            page.get_by_role("button", name="Save changes").click()
            expect(page.locator("#id_title")).to_have_value("Harbour at dawn")
            expect(page.locator("h1")).to_have_text("Edit “Harbour at dawn”")
            page.screenshot(path=tmp_path / "replica-saved.png", full_page=True)

            # The save moved the content generation: nobody reads the replica until it has replayed it.
            other.goto(edit)
            expect(other.locator("#id_title")).to_have_value("Harbour at dawn")
            assert Asset.objects.using("replica").get(pk=asset.pk).title == "Harbour at dusk"  # still behind
            assert Asset.objects.get(pk=asset.pk).title == "Harbour at dawn"
    finally:
        mine.close()
        theirs.close()
