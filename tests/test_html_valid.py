"""Every page is valid HTML as the server sends it (issue #11, item 8): the bytes of each
response, not a browser's DOM, which silently repairs what it parses. The Nu HTML checker
(vnu.jar, installed into .tools/ by ./scripts/test) reads them all in one run, since each run
starts a JVM: every step of the three widgets, with and without messages, the save, sent,
showroom, notice and result pages, resume and unsubscribe pages, the error pages and the demo
page, in English and in Spanish, and the dashboard's pages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    NUMBERS,
    ROOT,
    SECRET_KEYS,
    VEHICLE,
    Shopper,
    Staff,
    Store,
    deliver,
    saved_for_later,
)
from litestar.testing import TestClient

from resume.dashboard.settings_sections import SECTIONS
from resume.settings import Settings
from resume.tokens import ResumeLink, Signer, UnsubscribeLink

VNU = Path(
    os.environ.get("RESUME_TEST_VNU") or ROOT / ".tools/node_modules/vnu-jar/build/dist/vnu.jar"
)
BASE = "/embed/demo-motors"
# What a shopper types on every step of each widget, by field name.
ANSWERS = {
    "payment": {
        **VEHICLE,
        **NUMBERS,
        "first_name": "Pat",
        "email": "pat@example.com",
        "phone": "(217) 555-0100",
        "consent_followup": "yes",
    },
    "trade-in": {
        "vin": "",
        "year": "2019",
        "make": "Honda",
        "model": "CR-V",
        "trim": "EX",
        "mileage": "61,000",
        "grade": "good",
        "accident": "none",
        "warning_lights": "no",
        "smoked": "no",
        "keys": "two",
        "modifications": "no",
        "ownership": "finance",
        "lender": "Ally",
        "payoff": "9,500",
        "lease_months_left": "",
        "buyout": "",
        "timeline": "this_month",
        "first_name": "Dana",
        "last_name": "Okafor",
        "email": "dana@example.com",
        "phone": "",
        "consent_followup": "yes",
    },
    "credit": {
        "first_name": "Rosa",
        "last_name": "Delgado",
        "birthdate": "04/30/1988",
        "email": "rosa@example.com",
        "phone": "",
        "street": "1742 Evergreen Terrace",
        "city": "Shelbyville",
        "state": "IL",
        "zip": "62704",
        "years_at_address": "6",
        "housing": "rent",
        "housing_payment": "1,000",
        "employment": "employed",
        "employer": "Quimby Logistics",
        "years_at_job": "4",
        "monthly_income": "5,000",
        "credit_band": "good",
        "consent_followup": "yes",
    },
}
# Form fields every step carries that are not the shopper's answers.
CARRIED = {"d", "comment_hp", "action", "source", "notice"}
# A page the checker must find fault with, or a run that read nothing would pass.
CANARY = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>canary</title></head>'
    '<body><input inputmode="decimal"maxlength="3" aria-label="x"></body></html>'
)


def _fields(page: str) -> list[str]:
    """The names of the answers a step's form asks for, in order, once each."""
    names = re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', page)
    return list(dict.fromkeys(n for n in names if n not in CARRIED))


def _step(shopper: Shopper) -> str:
    action = re.search(r'<form method="post" action="[^"]*/([^/"?]+)"', shopper.page.text)
    assert action, shopper.page.text[:500]
    return action.group(1)


def _html(response: Any, status: int = 200) -> bytes:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html"), response.headers
    return bytes(response.content)


def widget_pages(client: TestClient[Any], widget: str) -> dict[str, bytes]:
    """Walk `widget` to its result as a shopper: each step as first shown, then sent empty
    (its messages), then answered."""
    shopper = Shopper(client, widget=widget)
    pages = {f"{widget} first page": _html(shopper.start())}
    answers = ANSWERS[widget]
    for _ in range(12):
        step = _step(shopper)
        if step == "result":
            break
        if step == "consent":
            pages[f"{widget} consent"] = _html(shopper.page)
            notice = re.search(r'name="notice" value="([^"]+)"', shopper.page.text)
            assert notice, "the consent page carries no proof of the notice"
            shopper.fill("consent", action="agree", notice=notice.group(1))
            continue
        names = _fields(shopper.page.text)
        pages[f"{widget} {step}"] = _html(shopper.page)
        shopper.fill(step, **{name: "" for name in names})
        if shopper.page.status_code == 422:
            pages[f"{widget} {step} with messages"] = _html(shopper.page, 422)
        missing = [n for n in names if n not in answers]
        assert not missing, f"no answer for {missing} on {widget}'s {step} step"
        before = shopper.page.url
        shopper.fill(step, **{name: answers[name] for name in names})
        assert shopper.page.url != before, (step, shopper.errors())
    pages[f"{widget} result"] = _html(shopper.page)
    pages[f"{widget} showroom"] = _html(shopper.open(f"{BASE}/{widget}/showroom?d={shopper.token}"))
    return pages


def shopper_pages(client: TestClient[Any], settings: Settings, store: Store) -> dict[str, bytes]:
    """Every page a shopper can reach: the widgets, save and resume, unsubscribe, the notice."""
    pages: dict[str, bytes] = {}
    for widget in ANSWERS:
        pages.update(widget_pages(client, widget))
    lease = Shopper(client)
    lease.start()
    lease.fill("vehicle", **VEHICLE)
    lease.fill("numbers", **{**NUMBERS, "plan": "lease", "term": "36"})
    lease.fill("contact", **{n: ANSWERS["payment"][n] for n in _fields(lease.page.text)})
    pages["payment result, a lease"] = _html(lease.page)

    saver = Shopper(client)
    saver.start()
    saver.fill("vehicle", **VEHICLE)
    draft_id = saver.draft_id
    pages["save page"] = _html(saver.fill("numbers", action="save", **NUMBERS))
    saver.fill("save", action="send", **{"from": "numbers", "email": "not an email"})
    assert saver.errors(), "a wrong address was not questioned"
    pages["save page with messages"] = _html(saver.page, saver.page.status_code)
    fields = {"from": "numbers", "email": "pat@example.com", "consent_followup": "yes"}
    pages["link sent"] = _html(saver.fill("save", action="send", **fields))
    version = store.one("SELECT version FROM drafts WHERE id = :d", d=draft_id)["version"]
    link = Signer(SECRET_KEYS).sign_resume(ResumeLink(1, draft_id, version))
    pages["resume link opened"] = _html(client.get(f"/r/{link}"))

    pages["credit notice"] = _html(client.get(f"{BASE}/credit/notice"))
    saved_for_later(Shopper(client), "lee@example.com")
    assert deliver(settings) >= 1
    message = store.rows("SELECT id FROM outbox ORDER BY id")[0]["id"]
    token = Signer(SECRET_KEYS).sign_unsubscribe(UnsubscribeLink(1, message))
    pages["unsubscribe, asked"] = _html(client.get(f"/u/{token}"))
    pages["unsubscribe, done"] = _html(client.post(f"/u/{token}"))
    pages["demo page"] = _html(client.get("/demo"))

    # The error pages: unknown address, a bad body, an expired or revoked link (with its
    # offer of a fresh one), a body too big.
    pages["error 404"] = _html(client.get(f"{BASE}/nothing-here"), 404)
    bad = client.post(f"{BASE}/payment/vehicle", content=b"d=x&d=y", headers=FORM)
    pages["error 400"] = _html(bad, 400)
    big = client.post(f"{BASE}/payment/vehicle", content=b"make=" + b"x" * 300_000, headers=FORM)
    pages["error 413"] = _html(big, 413)
    store.execute("UPDATE drafts SET version = version + 1 WHERE id = :d", d=draft_id)
    pages["error 410, a revoked link"] = _html(client.get(f"/r/{link}"), 410)
    pages["a fresh link asked for"] = _html(client.post(f"/r/{link}/renew", follow_redirects=True))

    pages["kept mail"] = _html(client.get("/mail"))
    kept = re.search(r'href="(/mail/[^"/]+)"', pages["kept mail"].decode())
    assert kept, "no kept message listed"
    pages["a kept message"] = _html(client.get(kept.group(1)))
    return pages


FORM = {"content-type": "application/x-www-form-urlencoded"}


def staff_pages(client: TestClient[Any], settings: Settings, store: Store) -> dict[str, bytes]:
    """Every dashboard page an admin sees, from the invitation on."""
    pages: dict[str, bytes] = {}
    admin, link = Staff.invited(client, settings, "boss@demo-motors.example", "admin")
    pages["invitation"] = _html(admin.get(link))
    import pyotp

    enrol = admin.post(link, password="correct horse battery staple", again="no")
    pages["invitation with messages"] = _html(enrol, enrol.status_code)
    enrol = admin.post(
        link, password="correct horse battery staple", again="correct horse battery staple"
    )
    pages["enrol the app"] = _html(enrol)
    key = re.search(r'<p class="key" id="totp-key">([A-Z2-7 ]+)</p>', enrol.text)
    assert key, enrol.text[:800]
    admin.secret = key.group(1).replace(" ", "")
    done = admin.post(f"{link}/mfa", follow=False, code=pyotp.TOTP(admin.secret).now())
    pages["recovery codes"] = _html(done)
    client.cookies.clear()
    pages["sign in"] = _html(admin.get("/dashboard/login"))
    pages["sign in, the code"] = _html(
        admin.post("/dashboard/login", email=admin.email, password="correct horse battery staple")
    )
    admin.post("/dashboard/login/code", code=admin.code())
    # A lead of each widget: each has its own figures on the lead's page.
    leads = {row["widget"]: row["id"] for row in store.rows("SELECT id, widget FROM leads")}
    assert set(leads) == set(ANSWERS), leads
    person = store.one("SELECT id FROM staff WHERE email = 'rep@demo-motors.example'")["id"]
    paths = [
        "/dashboard/leads",
        "/dashboard/leads?status=new&widget=payment",
        "/dashboard/funnel",
        "/dashboard/funnel?widget=trade-in&source=direct",
        "/dashboard/team",
        "/dashboard/leads?began=payment&from=2026-01-01&to=2030-01-01&point=captured",
        "/dashboard/leads?attempts=0&reached=contacted&attempted=0",
        *(f"/dashboard/leads/{lead}" for lead in leads.values()),
        "/dashboard/audit",
        "/dashboard/outbox",
        "/dashboard/suppressions",
        "/dashboard/mail",
        "/dashboard/staff",
        f"/dashboard/staff/{person}",
        "/dashboard/account",
        "/dashboard/settings",
        "/dashboard/settings/demo-motors",
        "/dashboard/settings/demo-motors/embed",
        "/dashboard/settings/demo-motors/embed?widget=payment",
        *(f"/dashboard/settings/demo-motors/{section}" for section in SECTIONS),
        "/dashboard/preview/demo-motors/payment",
    ]
    for path in paths:
        pages[path] = _html(admin.get(path))
    mail = re.search(r'href="(/dashboard/mail/[^"/]+)"', pages["/dashboard/mail"].decode())
    assert mail, "no kept message listed"
    pages["a kept message in the dashboard"] = _html(admin.get(mail.group(1)))
    return pages


def nu_errors(pages: dict[str, bytes], folder: Path) -> dict[str, list[str]]:
    """Run the Nu HTML checker once on every page; return its errors by page."""
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        pytest.fail(
            f"The Nu HTML checker is not installed (java: {java or 'not found'}, {VNU}: "
            f"{'found' if VNU.is_file() else 'missing'}). Run ./scripts/test once: it installs "
            "vnu-jar into .tools/ with npm (and Java, if missing), or set RESUME_TEST_VNU to a "
            "vnu.jar.",
            pytrace=False,
        )
    folder.mkdir()
    names: dict[str, str] = {}
    for number, (name, body) in enumerate(pages.items()):
        path = folder / f"{number:03}.html"
        path.write_bytes(body)
        names[path.name] = name
    done = subprocess.run(
        [
            java,
            "-jar",
            str(VNU),
            "--format",
            "json",
            "--stdout",
            "--exit-zero-always",
            *(str(folder / n) for n in names),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout.strip(), f"the checker said nothing: {done.stderr}"
    found: dict[str, list[str]] = {}
    for message in json.loads(done.stdout)["messages"]:
        if message["type"] == "info":
            continue  # warnings and notes: advice, not errors
        url = message.get("url", "(no page)")
        page = names.get(url.rsplit("/", 1)[-1], url)
        where = f"line {message['lastLine']}: " if "lastLine" in message else ""
        extract = " ".join(message.get("extract", "").split())
        extract = f" [{extract}]" if extract else ""
        found.setdefault(page, []).append(f"{where}{message['message']}{extract}")
    return found


def test_every_page_is_valid_html_as_served(
    client: TestClient[Any], settings: Settings, store: Store, tmp_path: Path
) -> None:
    pages = shopper_pages(client, settings, store)
    # Every shopper page again in Spanish (issue #11, item 6): other words, the same markup
    # rules; a Spanish browser is served Spanish.
    client.headers["Accept-Language"] = "es-US,es;q=0.9"
    spanish = shopper_pages(client, settings, store)
    assert b'<html lang="es">' in spanish["payment first page"], "the Spanish pass was English"
    pages.update({f"{name} (es)": page for name, page in spanish.items()})
    client.headers.pop("Accept-Language")
    pages.update(staff_pages(client, settings, store))
    pages["canary"] = CANARY.encode()

    found = nu_errors(pages, tmp_path / "pages")

    canary = found.pop("canary", [])
    assert any("No space between attributes" in m for m in canary), (
        f"the checker did not flag a known error, so it checked nothing: {canary}"
    )
    report = "\n".join(
        f"{page}:\n" + "\n".join(f"  {m}" for m in messages) for page, messages in found.items()
    )
    if found:
        pytest.fail(f"{sum(map(len, found.values()))} errors on {len(found)} pages:\n{report}")
