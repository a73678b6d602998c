"""The lead list as CSV and a lead's ADF document (issue #10, item 4), as a manager takes
them: every page of the list with the list's own filters and the account's scope, streamed,
a cell a spreadsheet would run neutralised, audited with its filter; the ADF document the
CRM gets, valid against the DTD; nothing for a rep, nothing of another dealership."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from conftest import Shopper, Staff, Store, run, saved_for_later
from sqlalchemy import insert
from test_alerts import adf_document
from test_dashboard_security import a_lead, detail, elsewhere, other_dealer

from resume.db import Database
from resume.tables import leads

MANAGER = "morgan.mgr@demo-motors.example"


@pytest.fixture
def manager(client: Any, settings: Any) -> Staff:
    """Demo Motors' manager: sees every lead of the dealership, and may export them."""
    return Staff.active(client, settings, MANAGER, "manager")


def table(response: Any) -> list[dict[str, str]]:
    """The CSV as a spreadsheet reads it: the BOM, then a header row, then a row a lead."""
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="leads-')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def many_leads(settings: Any, count: int, dealer_id: int = 1) -> None:
    """`count` leads of one dealership straight into the table, a second apart."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "dealer_id": dealer_id,
            "email": f"bulk{i}@example.com",
            "name": f"Bulk {i}",
            "status": "contacted" if i % 3 == 0 else "new",
            "captured_at": now - dt.timedelta(seconds=i),
            "last_activity_at": now - dt.timedelta(seconds=i),
            "widget": "payment",
            "widgets": "payment",
        }
        for i in range(count)
    ]

    async def add() -> None:
        db = Database(settings)
        try:
            async with db.write() as conn:
                await conn.execute(insert(leads), rows)
        finally:
            await db.dispose()

    run(add())


def test_the_export_is_the_list_with_its_filter_every_page_and_audited(
    manager: Staff, client: Any, settings: Any, store: Store
) -> None:
    many_leads(settings, 1234)
    everything = table(client.get("/dashboard/leads.csv"))
    assert len(everything) == 1234  # past the export's 500-row pages: all of them, once each
    assert len({r["lead"] for r in everything}) == 1234
    contacted = table(client.get("/dashboard/leads.csv?status=contacted&sort=age"))
    assert len(contacted) == 412 and {r["status"] for r in contacted} == {"Contacted"}
    # Sorted as the list is: oldest capture first.
    assert [r["name"] for r in contacted[:2]] == ["Bulk 1233", "Bulk 1230"]
    rows = store.rows("SELECT detail FROM audit WHERE action = 'leads_exported' ORDER BY id")
    assert [detail(r)["filter"] for r in rows] == [{}, {"status": "contacted", "sort": "age"}]
    # The list page offers the download with the filters it shows.
    page = manager.get("/dashboard/leads?status=contacted")
    assert 'href="/dashboard/leads.csv?status=contacted"' in page.text


def test_a_cell_a_spreadsheet_would_run_is_neutralised(
    manager: Staff, client: Any, store: Store
) -> None:
    lead = a_lead(client, store, email="pat@example.com")
    formula = '=HYPERLINK("http://evil.example","Click")'
    store.execute(
        "UPDATE leads SET name = :n, phone = :p WHERE id = :l", n=formula, p="+12175550142", l=lead
    )
    (row,) = table(client.get("/dashboard/leads.csv"))
    assert row["name"] == "'" + formula
    assert row["phone"] == "'+12175550142"  # shown as typed, never summed
    assert row["email"] == "pat@example.com" and row["status"] == "New"
    assert row["page"].endswith(f"/dashboard/leads/{lead}")
    for start in ("+", "-", "@", "\t", "\r"):
        store.execute("UPDATE leads SET name = :n WHERE id = :l", n=f"{start}1+1", l=lead)
        (row,) = table(client.get("/dashboard/leads.csv"))
        assert row["name"] == f"'{start}1+1"


def test_a_rep_gets_no_export_and_another_dealership_none_of_ours(
    client: Any, settings: Any, store: Store
) -> None:
    a_lead(client, store, email="ours@example.com")
    rep = Staff.active(client, settings, "riley.rep@demo-motors.example", "sales")
    assert rep.get("/dashboard/leads.csv").status_code == 404
    assert "leads.csv" not in rep.get("/dashboard/leads").text
    hilltop = other_dealer(settings)
    with elsewhere(settings) as browser:
        theirs = Staff.active(
            browser, settings, "hal@hilltop.example", "manager", dealers=(hilltop,)
        )
        rows = table(theirs.client.get("/dashboard/leads.csv"))
        assert "ours@example.com" not in {r["email"] for r in rows}
        # Naming our dealership in the filter is refused, not obeyed.
        assert theirs.client.get("/dashboard/leads.csv?dealer=demo-motors").status_code == 400
    assert store.rows("SELECT 1 FROM audit WHERE action = 'leads_exported' AND dealer_id = 1") == []


@pytest.mark.parametrize(
    "query", ["status=bogus", "since=yesterday", "sort=random", "exit=nowhere", "widget=x"]
)
def test_a_bad_filter_is_a_400_and_nothing_is_exported_or_audited(
    manager: Staff, client: Any, store: Store, query: str
) -> None:
    response = client.get(f"/dashboard/leads.csv?{query}")
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]
    assert store.rows("SELECT 1 FROM audit WHERE action = 'leads_exported'") == []


def test_a_leads_adf_document_downloads_valid_and_audited(
    manager: Staff, client: Any, settings: Any, store: Store
) -> None:
    draft_id = saved_for_later(Shopper(client), "pat@example.com", consent=True)
    (lead,) = store.rows("SELECT lead_id FROM drafts WHERE id = :d", d=draft_id)
    lead_id = lead["lead_id"]
    page = manager.get(f"/dashboard/leads/{lead_id}")
    assert f'href="/dashboard/leads/{lead_id}/adf?draft={draft_id}"' in page.text
    response = client.get(f"/dashboard/leads/{lead_id}/adf?draft={draft_id}")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="lead-{lead_id}-payment.xml"'
    )
    document = adf_document(response.content)
    assert document.findtext("prospect/customer/contact/email") == "pat@example.com"
    assert document.findtext("prospect/vendor/vendorname") == "Demo Motors"
    # Without a draft named: the lead's latest.
    assert client.get(f"/dashboard/leads/{lead_id}/adf").content.startswith(b"<?xml")
    (entry,) = store.rows(
        "SELECT subject, detail FROM audit WHERE action = 'adf_downloaded' ORDER BY id LIMIT 1"
    )
    assert entry["subject"] == f"lead:{lead_id}" and detail(entry)["draft"] == draft_id
    for bad in ("draft=nope", "draft=" + "x" * 500):
        assert client.get(f"/dashboard/leads/{lead_id}/adf?{bad}").status_code == 404
    for path in ("/dashboard/leads/999999/adf", "/dashboard/leads/abc/adf"):
        assert client.get(path).status_code in (400, 404)
    assert json.loads(json.dumps(detail(entry)))  # the detail is plain JSON


def test_the_adf_of_another_dealerships_lead_is_not_found(
    client: Any, settings: Any, store: Store
) -> None:
    lead_id = a_lead(client, store)
    hilltop = other_dealer(settings)
    with elsewhere(settings) as browser:
        theirs = Staff.active(browser, settings, "hal@hilltop.example", "admin", dealers=(hilltop,))
        assert theirs.client.get(f"/dashboard/leads/{lead_id}/adf").status_code == 404
    rep = Staff.active(client, settings, "riley.rep@demo-motors.example", "sales")
    assert rep.client.get(f"/dashboard/leads/{lead_id}/adf").status_code == 404
    assert store.rows("SELECT 1 FROM audit WHERE action = 'adf_downloaded'") == []
