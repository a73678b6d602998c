"""Every step of every widget fits its frame (issue #11, item 2): in headless Chromium with
JavaScript off, the widget in the iframe the dealer pastes (resume.embed's snippet, at the
height the README recommends) on a page of the dealer's own site, at 390 and 320 px wide,
in English and in Spanish (a browser asking for es-US).
Each widget is walked to its result with valid answers; each step with questions is also
shown with its error summary (Continue pressed with nothing answered: every answer refused
at once). On every page the frame's document must be no taller than the frame
(`scrollHeight` against the frame's height): no inner scroll bar, Continue in view. On the
same walks, at 390 and 320 px and on a laptop, every tap target must be at least 44 by 44 px
(issue #11, item 4). The heights measured are printed, and screenshots of the frame go to
/tmp/shots-fit/.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import child_env, free_port, seed_demo, wait_for_serve
from playwright.sync_api import Browser, Frame, Locator, Page, expect, sync_playwright
from test_browser import CHROMIUM, CHROMIUM_ARGS, fill

from resume import embed, i18n
from resume.catalog import Catalog

pytestmark = pytest.mark.browser

CATALOG = Catalog.load()
README = Path(__file__).resolve().parent.parent / "README.md"
SHOTS = Path("/tmp/shots-fit")
# A phone the size most shoppers hold, and the narrowest one still sold; and a laptop, where
# the tap targets are measured too.
WIDTHS = {390: 844, 320: 568}
LAPTOP = {1280: 800}
MAX_HEIGHT = 900  # "about a phone's screen, not a frame taller than the page around it"
TAP = 44  # the least a tap target measures each way, in CSS px (issue #11, item 4)
# Every tap target the frame's page shows: links, buttons, summaries, boxes, and a radio or
# tick box by the label it sits in (the whole label is what a finger presses). Hidden ones
# are not targets: the Enter key's first button and the honeypot, and what is folded away.
TARGETS = """() => {
  const found = [];
  const all = document.querySelectorAll(
    'a[href], button, summary, select, textarea, input:not([type=hidden])');
  for (const element of all) {
    if (element.closest('.visually-hidden, .hp, [aria-hidden="true"]')) continue;
    const radio = element.matches('input[type=radio], input[type=checkbox]');
    const target = radio ? (element.closest('label') || element) : element;
    if (!target.getClientRects().length) continue;
    const box = target.getBoundingClientRect();
    const name = (target.innerText || target.value || target.name || '').trim().split('\\n')[0];
    found.push([target.tagName.toLowerCase(), name.slice(0, 40), box.width, box.height]);
  }
  return found;
}"""

# Each widget walked to its result: the step's heading, then the answers that pass it.
# A step with no answers is one the walk only looks at (the consent's "I agree" is pressed).
Walk = list[tuple[str, dict[str, str]]]
PAYMENT_FINANCE: Walk = [
    (
        "The vehicle",
        {"condition": "new", "year": "2024", "make": "Toyota", "model": "RAV4", "price": "32,000"},
    ),
    ("Finance or lease", {"plan": "finance", "credit": "good"}),
    (
        "Your numbers",
        {"down_payment": "3,000", "trade_value": "8,000", "trade_payoff": "5,000", "term": "60"},
    ),
    ("Your estimated payment", {}),
]
PAYMENT_LEASE: Walk = [
    (
        "The vehicle",
        {"condition": "new", "year": "2024", "make": "Toyota", "model": "RAV4", "price": "32,000"},
    ),
    ("Finance or lease", {"plan": "lease", "credit": "excellent"}),
    (
        "Your numbers",
        {"down_payment": "2,000", "trade_value": "6,000", "trade_payoff": "7,500", "term": "36"},
    ),
    ("Your estimated payment", {}),
]
TRADE_IN: Walk = [
    ("Your car", {"year": "2019", "make": "Honda", "model": "Accord", "trim": "EX-L"}),
    ("Mileage and condition", {"mileage": "48,500", "grade": "good"}),
    ("Its history", {"accident": "none", "warning_lights": "no"}),
    ("Keys and other details", {"smoked": "no", "keys": "two", "modifications": "no"}),
    ("Loan or lease", {"ownership": "finance", "lender": "Honda Financial", "payoff": "9,000"}),
    ("When and where", {"timeline": "this_month", "first_name": "Sam", "email": "sam@example.com"}),
    ("Your trade-in", {}),
]
CREDIT: Walk = [
    (
        "About you",
        {
            "first_name": "Rosa",
            "last_name": "Delgado",
            "birthdate": "04/30/1988",
            "email": "rosa@example.com",
            "phone": "(217) 555-0134",
        },
    ),
    (
        "Your address",
        {"street": "1742 Evergreen Terrace", "city": "Shelbyville", "state": "IL", "zip": "62704"},
    ),
    ("Your home", {"years_at_address": "6", "housing": "rent", "housing_payment": "1,000"}),
    (
        "Work and income",
        {
            "employment": "employed",
            "employer": "Quimby Logistics",
            "years_at_job": "4",
            "monthly_income": "5,000",
        },
    ),
    ("Your credit", {"credit_band": "good"}),
    ("Your permission", {}),
    ("Your estimate", {}),
]
WALKS = {
    "payment-finance": ("payment", PAYMENT_FINANCE),
    "payment-lease": ("payment", PAYMENT_LEASE),
    "trade-in": ("trade-in", TRADE_IN),
    "credit": ("credit", CREDIT),
}


@dataclass
class Site:
    """The running `resume serve`, and the dealer's own site (another origin, another site)
    whose page holds the widget's snippet as the dealer pastes it."""

    widget_origin: str
    site_origin: str
    heights: dict[str, dict[int, int]] = field(default_factory=dict)


def dealer_site(port: int) -> ThreadingHTTPServer:
    """The dealer's site: /{widget} is a page with nothing but that widget's snippet, full
    width, so the frame is exactly as wide as the phone."""

    class Handler(BaseHTTPRequestHandler):
        snippets: dict[str, str] = {}

        def do_GET(self) -> None:
            snippet = self.snippets.get(self.path.strip("/"))
            if snippet is None:
                self.send_error(404)
                return
            body = (
                "<!doctype html><html lang=en><meta name=viewport "
                'content="width=device-width, initial-scale=1"><title>Demo Motors</title>'
                f'<body style="margin:0">{snippet}</body></html>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp_path = tmp_path_factory.mktemp("fit")
    port, site_port = free_port(), free_port()
    running = Site(f"http://127.0.0.1:{port}", f"http://localhost:{site_port}")
    env = child_env(
        tmp_path,
        RESUME_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'resume.db'}",
        RESUME_BASE_URL=running.widget_origin,
    )
    seed_demo(env, tmp_path)
    added = subprocess.run(
        [sys.executable, "-m", "resume", "dealer", "config", "demo-motors"]
        + ["--add-origin", running.site_origin],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    httpd = dealer_site(site_port)
    titles = {"payment": "Payment calculator", "trade-in": "Trade-in", "credit": "Credit"}
    httpd.RequestHandlerClass.snippets = {  # type: ignore[attr-defined]
        slug: embed.iframe(embed.url(running.widget_origin, "demo-motors", slug), title)
        for slug, title in titles.items()
    }
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    stderr_path = tmp_path / "server.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "resume", "serve", "--no-worker"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_serve(
            process, running.widget_origin, lambda: stderr_path.read_text(errors="replace"), 20.0
        )
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        httpd.shutdown()
        httpd.server_close()
        print(f"\nscrollHeight of the frame's document, by page (frame height {embed.HEIGHT} px):")
        for name, measured in running.heights.items():
            print(f"  {name:42} " + "  ".join(f"{w} px: {h}" for w, h in measured.items()))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def test_the_readme_recommends_the_height_measured_here() -> None:
    """The snippet's height is the README's figure, and a phone's screen at most."""
    assert embed.HEIGHT <= MAX_HEIGHT
    text = README.read_text()
    assert f'height="{embed.HEIGHT}"' in text
    assert f"{embed.HEIGHT} px shows the longest step" in text
    assert not re.search(rf'height="(?!{embed.HEIGHT}")\d+"', text)


class Measure:
    """Measures each page the frame shows, at one width; keeps what it found."""

    def __init__(self, site: Site, page: Page, frame: Frame, width: int, label: str) -> None:
        self.site, self.page, self.frame, self.width, self.label = site, page, frame, width, label
        self.too_tall: list[str] = []
        self.too_small: list[str] = []
        self.smallest: tuple[float, float] = (float("inf"), float("inf"))

    def __call__(self, name: str) -> None:
        name = f"{self.label} {name}"
        frame_box = self.page.locator("iframe").bounding_box()
        assert frame_box is not None
        assert round(frame_box["width"]) == self.width
        assert round(frame_box["height"]) == embed.HEIGHT
        height, content, scroll_width, client_width = self.frame.evaluate(
            """() => { const root = document.documentElement;
                       return [root.scrollHeight, Math.ceil(document.body.scrollHeight),
                               root.scrollWidth, root.clientWidth]; }"""
        )
        # scrollHeight is the frame's at least; the body's is what the page itself needs.
        self.site.heights.setdefault(name, {})[self.width] = content
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        SHOTS.mkdir(exist_ok=True)
        # The frame itself, stretched to its content for the shot (a full-page shot of the
        # dealer's page leaves the frame blank), then put back as the dealer pasted it.
        frame, viewport = self.page.locator("iframe"), self.page.viewport_size
        assert viewport is not None
        self.page.set_viewport_size({"width": self.width, "height": height + 40})
        frame.evaluate("(element, tall) => { element.style.height = tall + 'px'; }", height)
        frame.screenshot(path=str(SHOTS / f"{slug}-{self.width}.png"))
        frame.evaluate("(element, tall) => { element.style.height = tall + 'px'; }", embed.HEIGHT)
        self.page.set_viewport_size(viewport)
        if height > embed.HEIGHT:
            self.too_tall.append(f"{name} at {self.width} px: {height} px > {embed.HEIGHT} px")
        assert scroll_width <= client_width, f"{name} at {self.width} px scrolls sideways"
        targets = self.frame.evaluate(TARGETS)
        assert targets, f"{name}: no tap target found"
        for tag, text, width, tall in targets:
            self.smallest = (min(self.smallest[0], width), min(self.smallest[1], tall))
            # A hundredth of a pixel of rounding is not a smaller target.
            if width < TAP - 0.01 or tall < TAP - 0.01:
                self.too_small.append(f"{name}: <{tag}> {text!r} is {width:.1f} × {tall:.1f} px")


def _submit(frame: Frame, button: Locator) -> None:
    """Press a button of the frame's form and wait for the page the POST leads to (the frame
    is marked first: the new page is the one without the mark)."""
    frame.evaluate("document.documentElement.dataset.fitSeen = '1'")
    button.click()
    expect(frame.locator("html[data-fit-seen]")).to_have_count(0, timeout=15_000)
    frame.wait_for_load_state()


def _said(lang: str, message: str) -> str:
    with i18n.speaking(lang):
        return i18n.gettext(message)


def _titles(slug: str, lang: str) -> dict[str, str]:
    """Each step's English title, and the title a shopper reading `lang` sees."""
    english = CATALOG.widgets[slug].steps
    shown = CATALOG.translations[lang][slug].steps if lang != "en" else english
    return {one.title: other.title for one, other in zip(english, shown, strict=True)}


def _walk(
    browser: Browser, site: Site, slug: str, label: str, walk: Walk, width: int, lang: str = "en"
) -> Measure:
    """Walk `slug` to its result in a browser that asks for `lang` (Spanish words are longer:
    the frame must hold them too)."""
    context = browser.new_context(
        java_script_enabled=False,
        viewport={"width": width, "height": {**WIDTHS, **LAPTOP}[width]},
        locale="es-US" if lang == "es" else "en-US",
    )
    titles = _titles(slug, lang)
    label = label if lang == "en" else f"{label} ({lang})"
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto(f"{site.site_origin}/{slug}")
        expect(page.frame_locator("iframe").get_by_role("heading", level=2).first).to_be_visible()
        frame = page.main_frame.child_frames[0]
        assert frame.url == embed.url(site.widget_origin, "demo-motors", slug)
        measure = Measure(site, page, frame, width, label)
        for english, answers in walk:
            title = titles[english]
            expect(frame.get_by_role("heading", level=2, name=title)).to_be_visible()
            measure(title)
            continue_button = frame.get_by_role("button", name=_said(lang, "Continue"), exact=True)
            if answers and continue_button.count():
                # The step with its error summary: Continue with nothing answered.
                _submit(frame, continue_button)
                if frame.locator(".error-summary").count():
                    expect(frame.get_by_role("heading", level=2, name=title)).to_be_visible()
                    measure(f"{title} (errors)")
                else:  # nothing on it is required: the walk comes back to answer it
                    _submit(
                        frame, frame.get_by_role("button", name=_said(lang, "Back"), exact=True)
                    )
                    expect(frame.get_by_role("heading", level=2, name=title)).to_be_visible()
                fill(frame, **answers)
                _submit(frame, continue_button)
            elif frame.locator("#agree").count():
                _submit(frame, frame.locator("#agree"))
        return measure
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
@pytest.mark.parametrize("walk", list(WALKS))
def test_every_step_fits_the_frame(
    browser: Browser, site: Site, walk: str, width: int, lang: str
) -> None:
    slug, steps = WALKS[walk]
    measure = _walk(browser, site, slug, walk, steps, width, lang)
    assert not measure.too_tall, "\n".join(measure.too_tall)


@pytest.mark.parametrize("width", sorted({**WIDTHS, **LAPTOP}, reverse=True))
@pytest.mark.parametrize("walk", list(WALKS))
def test_every_tap_target_is_44_px(browser: Browser, site: Site, walk: str, width: int) -> None:
    """Every link, button and box on every step, with and without its error summary, is at
    least 44 by 44 px (issue #11, item 4): the numbered steps were 38 px wide at 320 px."""
    slug, steps = WALKS[walk]
    measure = _walk(browser, site, slug, walk, steps, width)
    print(
        f"\n{walk} at {width} px: smallest target {measure.smallest[0]:.0f} px wide, "
        f"{measure.smallest[1]:.0f} px tall"
    )
    assert not measure.too_small, "\n".join(measure.too_small)
