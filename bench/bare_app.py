"""The baseline for issue #2: a bare Litestar route doing a step's unavoidable work, no database.

One POST parses the same form body, verifies the same kind of signed credential, and renders
the page the real app's redirect leads to (the "numbers" step), in one request. It renders
through the real page's own context and template choice
(`resume.web.page_context.widget_context`, `step_context`, `step_templates`), so the two cannot
drift apart (issue #8: a field added to the template once broke this baseline). It echoes the
credential it verified instead of signing a fresh one, so it does slightly less than a real
page: the comparison errs in the baseline's favour.

Run it the way `resume serve` runs the real app (same uvicorn call, same settings from the
environment, the heap settled): `python bench/bare_app.py --port 8001`.
"""

from __future__ import annotations

import argparse
import gc
from typing import Any

from litestar import Litestar, Request, Response, get, post

from resume.catalog import Catalog
from resume.dealers import Dealer, DealerConfig
from resume.demo import DETAILS, SLUG, demo_origin
from resume.errors import NotFound
from resume.queries.drafts import DraftState, Stored
from resume.settings import Settings
from resume.templating import environment
from resume.tokens import FormCredential, Signer
from resume.web.forms import parse_form
from resume.web.page_context import step_context, step_templates, widget_context
from resume.web.security import widget_headers

DEALER_ID = 1


def create_bare_app(settings: Settings) -> Litestar:
    """Build the baseline app from the same settings the real server reads."""
    dealer = Dealer(
        id=DEALER_ID,
        slug=SLUG,
        origins=(demo_origin(settings.base_url),),
        config=DealerConfig(),
        **DETAILS,
    )
    # The widget as the real app shows it to this dealer (its offered terms filled in).
    catalog = Catalog.load()
    widget = catalog.for_dealer("payment", dealer)
    steps = widget.steps_for(dealer.config.flags())
    signer = Signer(settings.secret_keys)
    env = environment()
    templates = [env.select_template(step_templates(dealer, widget, step)) for step in steps]
    # The same language switch as the real page shows.
    frame = widget_context(
        dealer, widget, steps, catalog.languages("payment", dealer.config.languages)
    )
    max_age = settings.form_token_hours * 3600
    headers = widget_headers(dealer.origins)

    def render(index: int, token: str, draft: DraftState | None) -> str:
        context = step_context(dealer, widget, steps[index], index, draft, token)
        return templates[index].render(**frame, **context)

    @get("/bare/{dealer_slug:str}/{widget_slug:str}")
    async def start(dealer_slug: str, widget_slug: str) -> Response[str]:
        """Hand out a signed credential, as the real first page does (not measured)."""
        if dealer_slug != dealer.slug or widget_slug != widget.slug:
            raise NotFound("unknown form")
        token = signer.sign_form(FormCredential(dealer.id, widget.slug, "bench-draft", 1, 0))
        html = render(0, token, None)
        return Response(html, media_type="text/html", headers=headers)

    @post("/bare/{dealer_slug:str}/{widget_slug:str}/{step_name:str}", status_code=200)
    async def step(
        request: Request[Any, Any, Any], dealer_slug: str, widget_slug: str, step_name: str
    ) -> Response[str]:
        """Parse, verify, render: the whole step in one request, no database."""
        form = parse_form(await request.body(), request.headers.get("content-type", ""))
        token = form.pop("d", "")
        credential, _age = signer.verify_form(token, max_age=max_age)
        if credential.dealer_id != dealer.id or credential.widget != widget.slug:
            raise NotFound("wrong form")
        form.pop("comment_hp", "")
        form.pop("action", "")
        draft = DraftState(
            id=credential.draft_id,
            dealer_id=dealer.id,
            widget=widget.slug,
            version=credential.version,
            revision=credential.revision + 1,
            step=steps[1].name,
            reached=1,
            status="open",
            email=None,
            phone=None,
            wants_showroom=False,
            values={name: Stored(value, True, None, step_name) for name, value in form.items()},
        )
        html = render(1, token, draft)
        return Response(html, media_type="text/html", headers=headers)

    return Litestar(route_handlers=[start, step], openapi_config=None, debug=False)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the issue #2 baseline route.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    app = create_bare_app(Settings.from_env())
    # Its heap settled as `resume serve` settles the real app's (resume.heap), with the stdlib
    # so that a checkout from before resume.heap runs the same baseline: a baseline that paid
    # for full collections the real server no longer pays would flatter the real server.
    gc.collect()
    gc.freeze()
    print(f"bare: serving on http://{args.host}:{args.port}", flush=True)
    # The same call `resume serve` makes (src/resume/cli.py), so only the route differs.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
