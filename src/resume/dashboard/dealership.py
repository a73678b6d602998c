"""A dealership's settings, changed by its admin (issue #13, item 1): read a section as its
form shows it, check what was typed as `dealer add` checks it, and store it with an audit row
saying what it was and what it became. Origins change here too, for the command line as well.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from resume.calc import payment
from resume.dashboard.settings_form import CONTRASTS, Problem, Section, contrast, parsed
from resume.db import Database
from resume.dealers import Dealer, DealerConfig
from resume.dealers.checks import check_config, check_origin
from resume.errors import BadRequest, ConfigError, NotFound
from resume.queries import audit as audit_q
from resume.queries import dealers as dealers_q
from resume.queries.staff import Account
from resume.staff.roles import role

# Past this the FTC Safeguards Rule's disposal limit is passed for most drafts (16 CFR
# 314.4(c)(6): two years after last use, unless still needed).
SAFEGUARDS_DAYS = 730
SAMPLE_PRICE = Decimal("35000")
SAMPLE_DOWN = Decimal("3000")
ACTIONS = frozenset({"save", "sample", "confirm"})


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """What became of a settings form: stored, or shown back with its messages."""

    saved: bool
    errors: dict[str, str] = {}
    # Said before storing (retention): stored only when the admin confirms.
    warnings: tuple[str, ...] = ()
    sample: dict[str, Any] | None = None


class Version(msgspec.Struct, frozen=True):
    """Words a consent was given to, and how many consents used them."""

    kind: str
    version: str
    text: str
    consents: int
    first: dt.datetime
    last: dt.datetime


def stored(dealer: Dealer) -> dict[str, Any]:
    """The dealer's settings as plain values, its row's columns under `dealer`."""
    return {
        **msgspec.to_builtins(dealer.config),
        "dealer": {
            "name": dealer.name,
            "lead_email": dealer.lead_email,
            "address": dealer.address,
            "phone": dealer.phone,
            "timezone": dealer.timezone,
        },
    }


def value_at(data: dict[str, Any], path: str) -> Any:
    found: Any = data
    for key in path.split("."):
        if not isinstance(found, dict):
            return None
        found = found.get(key, found.get(int(key)) if key.isdigit() else None)
    return found


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    place = data
    for key in parents:
        if not isinstance(place.get(key), dict):
            place[key] = {}
        place = place[key]
    if value is None:
        place.pop(last, None)
    else:
        place[last] = value


def _config(data: dict[str, Any], origins: tuple[str, ...]) -> DealerConfig:
    """The settings `data` makes, checked as `dealer add` checks them (a logo on one of
    `origins`), or ConfigError."""
    plain = {k: v for k, v in data.items() if k != "dealer"}
    rules = plain.get("trade_in", {}).get("rules")
    if isinstance(rules, dict) and not rules.get("values_by_age"):
        plain["trade_in"] = {**plain["trade_in"], "rules": None}
    try:
        config = msgspec.convert(plain, DealerConfig, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"that value can't be used ({exc})") from None
    return check_config(config, origins)


def _message(exc: ConfigError) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class Dealership:
    """The settings pages' work, for accounts whose role may manage (admins)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _may(self, account: Account) -> None:
        if not role(account.role).may_manage:
            raise NotFound()

    async def covered(self, account: Account) -> list[Dealer]:
        """The dealerships this admin covers, in the order they were added."""
        self._may(account)
        async with self.db.read() as conn:
            found = await dealers_q.all_dealers(conn)
        return [d for d in found if d.id in account.dealer_ids]

    async def get(self, account: Account, slug: str) -> Dealer:
        """The dealership `slug`, if this admin covers it; otherwise a 404, as for none."""
        self._may(account)
        if len(slug) > 64:
            raise NotFound()
        async with self.db.read() as conn:
            dealer = await dealers_q.get_by_slug(conn, slug)
        if dealer is None or dealer.id not in account.dealer_ids:
            raise NotFound()
        return dealer

    async def change(
        self,
        account: Account,
        dealer: Dealer,
        section: Section,
        typed: dict[str, str],
        *,
        action: str = "save",
        ip: str = "",
    ) -> Change:
        """Check what was typed into `section`; store it unless something is wrong, a
        warning waits for confirmation, or only a sample was asked for."""
        self._may(account)
        if action not in ACTIONS:
            raise BadRequest("The form was sent with a button we don't know.")
        known = {e.path for e in section.entries}
        if unknown := sorted(set(typed) - known):
            raise BadRequest(f"The form was sent with a box we don't know ({unknown[0][:40]}).")
        before = stored(dealer)
        after = copy.deepcopy(before)
        errors: dict[str, str] = {}
        for entry in section.entries:
            if entry.path not in typed:
                continue  # a box the form didn't send keeps what is stored
            try:
                _set(after, entry.path, parsed(entry, typed[entry.path]))
            except Problem as exc:
                errors[entry.path] = str(exc)
        if errors:
            return Change(saved=False, errors=errors)
        # Compared as JSON: a value typed back as it was ([9, 20]) is no change from the
        # stored one ((9, 20)), and is neither saved nor audited as one.
        changed = [
            e.path
            for e in section.entries
            if msgspec.json.encode(value_at(after, e.path))
            != msgspec.json.encode(value_at(before, e.path))
        ]
        errors = _check(section, before, after, changed, dealer.origins)
        if errors:
            return Change(saved=False, errors=errors)
        config = _config(after, dealer.origins)
        if action == "sample":
            return Change(saved=False, sample=sample(config))
        warnings = await self._warnings(dealer, section, config) if changed else ()
        if warnings and action != "confirm":
            return Change(saved=False, warnings=warnings)
        if not changed:
            return Change(saved=True)
        async with self.db.write() as conn:
            # The settings as they are now, locked: another admin may have saved another
            # section since this form was read, and only this form's changes go on top.
            fresh = await dealers_q.get(conn, dealer.id, for_update=True)
            if fresh is None:
                raise NotFound()
            now = stored(fresh)
            merged = copy.deepcopy(now)
            for path in changed:
                _set(merged, path, value_at(after, path))
            try:
                config = _config(merged, fresh.origins)
            except ConfigError as exc:
                return Change(saved=False, errors={changed[0]: _message(exc)})
            if "cadence" in changed:
                # Every touch stores the cadence it was scheduled by (issue #4): a new one, a
                # name.
                digest = hashlib.sha256(repr(config.cadence).encode()).hexdigest()[:10]
                config = msgspec.structs.replace(config, cadence_version=f"custom-{digest}")
            await store(
                conn, fresh, section.slug, now, merged, config, changed,
                staff_id=account.id, ip=ip,
            )  # fmt: skip
        return Change(saved=True)

    async def _warnings(
        self, dealer: Dealer, section: Section, config: DealerConfig
    ) -> tuple[str, ...]:
        if section.slug != "retention":
            return ()
        days = config.retention_days
        found = []
        if days > SAFEGUARDS_DAYS:
            found.append(
                f"{days} days is more than two years. The FTC Safeguards Rule asks that "
                "customer information be disposed of within two years of its last use, unless "
                "it is still needed for the business."
            )
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        async with self.db.read() as conn:
            open_leads = await dealers_q.open_leads_untouched_since(conn, dealer.id, cutoff)
        if open_leads:
            found.append(
                f"{open_leads} open lead{'s' if open_leads != 1 else ''} (not sold or lost) "
                f"{'have' if open_leads != 1 else 'has'} drafts untouched for more than {days} "
                "days: their answers would be deleted within the hour."
            )
        return tuple(found)

    async def change_origins(
        self, account: Account, dealer: Dealer, *, add: str = "", remove: str = "", ip: str = ""
    ) -> list[str]:
        """Add or remove one embed origin; the origins now."""
        self._may(account)
        async with self.db.write() as conn:
            return await change_origins(
                conn,
                dealer.slug,
                added=(check_origin(add),) if add else (),
                removed=(check_origin(remove),) if remove else (),
                staff_id=account.id,
                ip=ip,
            )

    async def consent_versions(self, account: Account, dealer: Dealer) -> list[Version]:
        """Each wording consents were given to at this dealership, newest first."""
        self._may(account)
        async with self.db.read() as conn:
            rows = await dealers_q.consent_versions(conn, dealer.id)
        return [Version(*row) for row in rows]


def _check(
    section: Section,
    before: dict[str, Any],
    after: dict[str, Any],
    changed: list[str],
    origins: tuple[str, ...],
) -> dict[str, str]:
    """The changes checked together; if they fail, each changed value alone, so a message
    names its box (together first: a mode and the values it needs may only pass as a pair)."""
    errors: dict[str, str] = {}
    try:
        if changed:
            _config(after, origins)
    except ConfigError as whole:
        for path in changed:
            alone = copy.deepcopy(before)
            _set(alone, path, value_at(after, path))
            try:
                _config(alone, origins)
            except ConfigError as exc:
                errors[path] = _message(exc)
        if not errors:
            errors[changed[0]] = _message(whole)
    for one, two, least, what in CONTRASTS:
        if section.slug == "branding" and not errors:
            ratio = contrast(value_at(after, one), value_at(after, two))
            if ratio < least:
                errors[one] = f"{what}: {ratio:.1f} to 1, and it needs {least:g} to 1."
    version = "credit.notice_version"
    reworded = {"credit.notice", "credit.notice_es"} & set(changed)
    if reworded and version not in changed and version not in errors:
        errors[version] = (
            "New notice words need a new version, so each “I agree” says which words it was."
        )
    return errors


def sample(config: DealerConfig) -> dict[str, Any]:
    """A payment as the widget would show it with `config`: a new car financed, and leased."""
    finance = config.finance
    term = min(finance.terms, key=lambda t: abs(t - 60))
    lease_term = min(finance.residuals, key=lambda t: abs(t - 36))
    common = {
        "price": SAMPLE_PRICE,
        "down_payment": SAMPLE_DOWN,
        "trade_value": Decimal(0),
        "trade_payoff": Decimal(0),
        "tax_rate": finance.tax_rate,
        "doc_fee": finance.doc_fee,
    }
    return {
        "finance": payment.finance(
            **common,
            apr=finance.apr("good", "new"),
            term_months=term,
            trade_reduces_tax=finance.trade_reduces_tax,
        ),
        "lease": payment.lease(
            **common,
            residual_percent=finance.residual(lease_term),
            money_factor=finance.money_factors["good"],
            term_months=lease_term,
        ),
    }


async def store(
    conn: AsyncConnection,
    dealer: Dealer,
    section: str,
    before: dict[str, Any],
    after: dict[str, Any],
    config: DealerConfig,
    changed: list[str],
    *,
    staff_id: int | None,
    ip: str = "",
) -> None:
    """Store a section's changes and their audit row, in the caller's transaction."""
    details = {k: v for k, v in after["dealer"].items() if v != before["dealer"][k]}
    if details:
        await dealers_q.set_details(conn, dealer.id, **details)
    await dealers_q.set_config(conn, dealer.slug, config)
    await audit_q.record(
        conn,
        "settings_changed",
        at=dt.datetime.now(dt.UTC),
        staff_id=staff_id,
        dealer_id=dealer.id,
        subject=f"dealer:{dealer.slug}",
        ip=ip,
        detail={
            "section": section,
            "before": {p: value_at(before, p) for p in changed},
            "after": {p: value_at(after, p) for p in changed},
            "by": "dashboard",
        },
    )


async def change_origins(
    conn: AsyncConnection,
    slug: str,
    *,
    added: tuple[str, ...] = (),
    removed: tuple[str, ...] = (),
    staff_id: int | None = None,
    ip: str = "",
) -> list[str]:
    """Add and remove embed origins of dealer `slug`, audited; the origins now. Removing
    one it lacks, or the last one, is refused: no site could show its widgets."""
    found = await dealers_q.raw_origins(conn, slug)
    if found is None:
        raise ConfigError(f"no dealership {slug!r}")
    dealer_id, origins = found
    missing = [o for o in removed if o not in origins]
    if missing:
        raise ConfigError(f"{missing[0]!r} is not one of {slug}'s origins: {', '.join(origins)}")
    now = [o for o in origins if o not in removed]
    now += [o for o in added if o not in now]
    if not now:
        raise ConfigError("a dealership needs at least one origin, or no site can show its widgets")
    if now != origins:
        await dealers_q.set_origins(conn, slug, now)
        await audit_q.record(
            conn,
            "origins_changed",
            at=dt.datetime.now(dt.UTC),
            staff_id=staff_id,
            dealer_id=dealer_id,
            subject=f"dealer:{slug}",
            ip=ip,
            detail={
                "before": origins,
                "after": now,
                "by": "dashboard" if staff_id else "command line",
            },
        )
    return now
