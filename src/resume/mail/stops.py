"""The stop rules of a message at send: what a staff message is about, and why a message
must not go now. The worker checks them again at send, after the claim, so a stop, an
unsubscribe or a return that lands while a message is queued still stops it (rule 7).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from resume.consent import follows_up
from resume.dealers import Dealer
from resume.queries import callbacks as callbacks_q
from resume.queries import leads as leads_q
from resume.queries import offers as offers_q
from resume.queries.drafts import DraftState
from resume.queries.outbox import SHOPPER_KINDS, Message


async def about(
    conn: AsyncConnection, message: Message, draft: DraftState | None
) -> dict[str, Any]:
    """What a staff message is about besides its draft: the lead, a callback, an offer."""
    found: dict[str, Any] = {}
    # Shopper mail never names the lead: no read for it (issue #14).
    if draft is not None and draft.lead_id is not None and message.kind not in SHOPPER_KINDS:
        found["lead"] = await leads_q.get(conn, draft.lead_id, (message.dealer_id,))
    if "callback" in message.context:
        found["callback"] = await callbacks_q.callback(conn, int(message.context["callback"]))
    if message.kind == "offer" and draft is not None:
        found["offer"] = await offers_q.latest_offer(conn, draft.id)
    return found


def stopped(
    message: Message, draft: DraftState | None, about: dict[str, Any], dealer: Dealer | None
) -> str:
    """Why a message must not go now (checked at send as well as at enqueue), or ""."""
    if draft is not None and draft.demo:
        return "stopped"  # demo shoppers are never emailed
    if message.kind in {"callback_due", "callback_missed"}:
        callback = about.get("callback")
        return "stopped" if callback is None or callback.done_at is not None else ""
    if message.kind == "offer":
        return "" if about.get("offer") is not None else "stopped"
    if message.kind != "followup":
        return ""
    if dealer is not None and dealer.config.followup_mode == "off":
        return "stopped"  # turned off since it was queued (issue #13)
    if draft is None or draft.status == "completed" or draft.lead_status != "new":
        return "stopped"
    if not follows_up(draft.values):
        return "stopped"  # the box was unticked since the exit
    if draft.exit_at is None or draft.exits != message.context.get("exit"):
        return "stopped"  # the shopper came back after this exit
    return ""
