"""What the controllers share: settings, database, key ring, signer, the widget catalog, the
writer, and the caches in front of them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jinja2 import Template

from resume import i18n
from resume.autosave import Autosave
from resume.catalog import Catalog
from resume.dashboard.accounts import Accounts
from resume.dashboard.casework import Casework
from resume.dashboard.dealership import Dealership
from resume.dashboard.exports import Exports
from resume.dashboard.followthrough import Followthrough
from resume.dashboard.funnel import Funnel
from resume.dashboard.operations import Operations, Suppressions
from resume.db import Database
from resume.dealers import Dealer
from resume.definitions import Widget
from resume.errors import NotFound
from resume.i18n import gettext
from resume.keyring import Keyring
from resume.mail import Composer
from resume.migrations import head_revision
from resume.queries import dealers as dealers_q
from resume.settings import Settings
from resume.templating import environment
from resume.tokens import Signer
from resume.web.security import RateLimiter

if TYPE_CHECKING:
    from litestar import Request

DEALER_TTL = 15.0  # seconds a dealer's settings are reused before being read again


class Services:
    def __init__(self, settings: Settings, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog or Catalog.load()
        self.env = environment(self.catalog.templates)
        # The dashboard's pages: shopper text with its hiding characters shown (resume.visible).
        self.staff_env = environment(self.catalog.templates, for_staff=True)
        self.db = Database(settings)
        self.ring = Keyring(settings.data_keys)
        self.signer = Signer(settings.secret_keys)
        # One process on SQLite counts a draft's saves in memory; several on PostgreSQL count
        # them in the database, in the autosave batch's transaction (issue #12).
        shared = not self.db.is_sqlite
        self.autosave = Autosave(
            self.db,
            self.ring,
            draft_limit=settings.rate_limit_draft if shared else None,
            count=settings.metrics_on,
        )
        self.composer = Composer(settings, self.signer, self.catalog)
        self.accounts = Accounts(settings, self.db, self.ring, self.signer)
        self.casework = Casework(settings, self.db, self.ring, self.signer, self.catalog)
        self.followthrough = Followthrough(settings, self.db, self.ring, self.catalog)
        self.operations = Operations(self.db)
        self.suppressions = Suppressions(self.db)
        self.dealership = Dealership(self.db)
        self.funnel = Funnel(self.db, self.catalog)
        self.exports = Exports(
            self.db,
            self.ring,
            self.catalog,
            self.composer.resume_url,
            self.casework,
            settings.base_url,
        )
        self.limit_ip = RateLimiter(settings.rate_limit_ip)
        self.limit_draft = None if shared else RateLimiter(settings.rate_limit_draft)
        self._dealers: dict[str, tuple[float, Dealer]] = {}
        self.worker_wake: Any = None
        # The worker running in this process, if one does (its heartbeat, for /readyz).
        self.worker: Any = None
        self.schema_revision = head_revision()
        # This server's own origin: a Referer from it is a step's link, not where a shopper
        # came from.
        parts = urlsplit(settings.base_url)
        self.own_origin = f"{parts.scheme}://{parts.netloc}"
        self._templates: dict[tuple[str, ...], Template] = {}
        self._for_dealer: dict[tuple[str, int, str], tuple[Dealer, Widget]] = {}

    async def dealer(self, slug: str) -> Dealer:
        """Return the dealer for `slug`, from a short-lived cache; unknown is a 404."""
        cached = self._dealers.get(slug)
        now = time.monotonic()
        if cached and now - cached[0] < DEALER_TTL:
            return cached[1]
        if len(slug) > 64:
            raise NotFound(gettext("We don't know that dealership."))
        async with self.db.read() as conn:
            dealer = await dealers_q.get_by_slug(conn, slug)
        if dealer is None:
            raise NotFound(
                gettext("We don't know that dealership. Check the address of this page.")
            )
        self._dealers[slug] = (now, dealer)
        return dealer

    def forget_dealer(self, slug: str) -> None:
        """Read `slug`'s settings afresh on its next page: they were just changed here."""
        self._dealers.pop(slug, None)

    def template(self, names: tuple[str, ...]) -> Template:
        """Return the first of `names` that exists (a dealer's override first), remembered:
        a miss costs a look at the disk, and most names are misses on every page."""
        found = self._templates.get(names)
        if found is None:
            found = self._templates[names] = self.env.select_template(list(names))
        return found

    def widget(self, slug: str, dealer: Dealer, lang: str = i18n.DEFAULT) -> Widget:
        """Return the widget as `dealer` shows it in `lang`, made once per dealer setting."""
        # The dealer cache hands out the same object until it re-reads the dealer, so the
        # object itself says whether the settings this widget was made from are current.
        made = self._for_dealer.get((slug, dealer.id, lang))
        if made is None or made[0] is not dealer:
            with i18n.speaking(lang):  # the kind's own words (term choices) in it too
                widget = self.catalog.for_dealer(slug, dealer, lang)
            made = self._for_dealer[(slug, dealer.id, lang)] = (dealer, widget)
        return made[1]

    def wake_worker(self) -> None:
        """Have this process's worker look at the outbox now; call after the commit that
        queued the mail, or it may look before the mail is there."""
        if self.worker_wake is not None:
            self.worker_wake.set()


def services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"
