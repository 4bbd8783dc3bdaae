"""The pages in a real browser: headless Chromium against `weaponsdb up` on loopback, on
SQLite and on PostgreSQL. Screenshots of every page go to test-output/screenshots/."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import httpx2
import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from benchmarks.rendering import bare_surface, on_large_photo, render_marking
from tests.browser_support import (
    PAGE_BUDGET_BYTES,
    PHONE,
    Console,
    chromium,
    page_weight,
    screenshot,
)
from tests.conftest import fresh_postgres_schema
from tests.factories import PROVENANCE, headers, issue_key
from tests.photo_support import encode, jpeg, resized_recompressed_cropped
from tests.serving import Service, served
from tests.test_api_observations import gps_photo
from weaponsdb import db
from weaponsdb.vocab import Role

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = {
    "browse": "/",
    "entry": "/entries/bang-122",
    "missing-entry": "/entries/no-such-entry",
    "search": "/search",
    "search-results": "/search?markings=%EB%B0%A9-122%0AF-7&calibre=122",
    "map": "/map",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Service]]:
    """The service, migrated and seeded by `weaponsdb up`, on a database of its own."""
    workdir = tmp_path_factory.mktemp(f"web-{request.param}")
    if request.param == "sqlite":
        with served(f"sqlite:///{workdir / 'web.sqlite3'}", workdir) as running:
            yield request.param, running
        return
    with fresh_postgres_schema() as url, served(url, workdir) as running:
        yield request.param, running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def base(service: tuple[str, Service]) -> str:
    return service[1].base


@pytest.fixture
def backend_name(service: tuple[str, Service]) -> str:
    return service[0]


def open_page(browser: Browser, console: Console, **options: object) -> Page:
    context = browser.new_context(**options)  # type: ignore[arg-type]
    page = context.new_page()
    console.watch(page)
    return page


@pytest.fixture
def console() -> Iterator[Console]:
    """Every test ends with a clean console: no CSP violation, no script error."""
    watched = Console()
    yield watched
    assert watched.errors == []


@pytest.fixture
def page(browser: Browser, base: str, console: Console) -> Iterator[Page]:
    page = open_page(
        browser,
        console,
        base_url=base,
        permissions=["clipboard-read", "clipboard-write"],
    )
    yield page
    page.context.close()


def card_titles(page: Page) -> list[str]:
    return page.locator(".entries .card h2").all_inner_texts()


def test_browse_lists_every_entry_and_filters_by_category_and_country(page, backend_name):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Browse entries")
    assert card_titles(page) == [
        "Bang-122 artillery ammunition",
        "F-7 rocket-propelled grenade",
        "Type 58 self-loading rifle",
    ]
    screenshot(page, f"browse-{backend_name}")
    page.get_by_label("Category").select_option("rifle")
    page.get_by_role("button", name="Show entries").click()
    expect(page.locator(".count")).to_contain_text("1 entry matches")
    assert card_titles(page) == ["Type 58 self-loading rifle"]
    assert "category=rifle" in page.url
    page.get_by_label("Category").select_option("")
    page.get_by_label("Country").select_option("KP")
    page.get_by_role("button", name="Show entries").click()
    expect(page.locator(".count")).to_contain_text("3 entries match")
    screenshot(page, f"browse-filtered-{backend_name}")


def test_an_entry_shows_its_statements_with_sources_and_copies_a_citation(page, backend_name):
    page.goto("/")
    page.get_by_role("link", name="Bang-122 artillery ammunition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bang-122 artillery ammunition")
    expect(page.locator(".marking-text")).to_contain_text("Bang-122")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("122 mm (122-mm)")
    expect(facts).to_contain_text("North Korea (KP)")
    expect(facts.locator(".conf-inferred").first).to_be_visible()
    expect(page.locator("#source-upi-2023-10-17")).to_contain_text("United Press International")
    expect(page.get_by_text("Shells found on the Israel–Gaza border")).to_be_visible()

    cite = page.locator(".cite")
    expect(cite).to_contain_text("revision 1")
    page.get_by_role("button", name="Copy APA").click()
    expect(page.locator("#copy-status")).to_have_text("APA citation copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.get_by_label("APA").input_value()
    assert copied.startswith("Bang-122 artillery ammunition (revision 1).")
    assert copied.endswith("/v1/entries/bang-122/revisions/1")
    screenshot(page, f"entry-{backend_name}")


def test_the_citation_box_works_from_the_keyboard(page):
    page.goto("/entries/type-58")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_label("BibTeX").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Copy BibTeX")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#copy-status")).to_have_text("BibTeX citation copied.")
    assert page.evaluate("navigator.clipboard.readText()").startswith("@misc{weaponsdb-type-58-r1,")


def test_a_missing_entry_is_a_page_that_says_so(page, console, backend_name):
    response = page.goto("/entries/no-such-entry")
    assert response is not None
    assert response.status == 404
    console.forgive("status of 404")
    expect(page.locator(".error")).to_have_text("No entry has the slug 'no-such-entry'.")
    screenshot(page, f"missing-entry-{backend_name}")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_is_light_local_and_usable_on_a_phone(browser, base, console, name):
    page = open_page(browser, console, base_url=base, viewport=PHONE, is_mobile=True)
    response = page.goto(PAGES[name])
    assert response is not None
    if name == "missing-entry":
        console.forgive("status of 404")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    weight = page_weight(page, name)
    assert weight["external"] == []
    assert weight["before_photos"] < PAGE_BUDGET_BYTES, weight
    # Nothing wider than the screen, every control labelled, every image described.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter((e) => e.type !== "hidden" && e.labels.length === 0).map((e) => e.name)"""
    )
    assert unlabelled == []
    assert page.evaluate("""[...document.images].every((i) => i.alt.trim() !== "")""")
    screenshot(page, f"{name}-phone")
    page.context.close()


def test_typing_a_hangul_marking_finds_the_122_mm_entry_first_and_says_why(page, backend_name):
    page.goto("/")
    page.get_by_role("link", name="Identify", exact=True).click()
    page.get_by_label("Markings you read").fill("방-122")
    # From the keyboard: on to the calibre, and Enter sends the form.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Calibre in mm (optional)")).to_be_focused()
    page.keyboard.type("122")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?markings=*")
    results = page.locator(".results > li")
    first = results.first
    expect(first.get_by_role("heading")).to_have_text("Bang-122 artillery ammunition")
    expect(first.locator(".score")).to_contain_text("% match")
    why = first.locator(".why")
    expect(why).to_contain_text("You read 방-122: it matches the marking Bang-122, transliterated")
    expect(why).to_contain_text("Hangul read in Revised Romanization")
    expect(why).to_contain_text("122 mm agrees with the catalogue's 122 mm (raises the score)")
    expect(first.locator(".no-photo")).to_have_text("No photo yet")
    screenshot(page, f"search-results-{backend_name}")
    first.get_by_role("link", name="Bang-122 artillery ammunition").click()
    expect(page).to_have_url(re.compile(r"/entries/bang-122$"))


def test_an_illegible_marking_is_explained_next_to_the_box(page, console, backend_name):
    page.goto("/search")
    page.get_by_label("Markings you read").fill("???")
    page.get_by_role("button", name="Find matching entries").click()
    box = page.get_by_label("Markings you read")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_value("???")
    expect(page.locator("#e-markings")).to_contain_text("“???”: Has no legible letter or digit")
    screenshot(page, f"search-error-{backend_name}")
    console.forgive("status of 422")


def test_a_bad_upload_shows_a_clear_message(page, console, backend_name):
    page.goto("/search")
    page.get_by_label("Photo of the item or its markings").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}]
    )
    page.get_by_role("button", name="Match this photo").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The file is not an image of an allowed format (JPEG, PNG, WebP, TIFF)."
    )
    expect(page.get_by_label("Photo of the item or its markings")).to_have_attribute(
        "aria-invalid", "true"
    )
    screenshot(page, f"photo-upload-error-{backend_name}")
    console.forgive("status of 415")


def test_an_uploaded_photo_finds_the_entry_with_that_reference_photo(page, service, backend_name):
    _, running = service
    engine = db.make_engine(running.database_url)
    key = issue_key(db.make_sessionmaker(engine), f"browser-{backend_name}")
    engine.dispose()
    reference = jpeg(41, (1200, 900))
    with httpx2.Client(base_url=running.base) as api:
        attached = api.post(
            "/v1/entries/f-7/photos",
            files={"file": ("reference.jpg", reference, "image/jpeg")},
            data={**PROVENANCE, "caption": "Synthetic test picture, not a real photo"},
            headers=headers(key, None, "Synthetic reference photo for the browser test"),
        )
    assert attached.status_code == 201, attached.text
    page.goto("/search")
    page.get_by_label("Photo of the item or its markings").set_input_files(
        files=[
            {
                "name": "seen.jpg",
                "mimeType": "image/jpeg",
                "buffer": resized_recompressed_cropped(reference),
            }
        ]
    )
    page.get_by_role("button", name="Match this photo").click()
    expect(page.get_by_role("heading", name="Nearest reference photos")).to_be_visible()
    first = page.locator(".results .result").first
    expect(first.get_by_role("link", name="F-7 rocket-propelled grenade")).to_be_visible()
    expect(first).to_contain_text("Almost the same picture as this reference photo.")
    expect(first).to_contain_text(PROVENANCE["credit"])
    expect(first.get_by_role("img")).to_have_attribute(
        "alt", "Synthetic test picture, not a real photo"
    )
    screenshot(page, f"photo-match-{backend_name}")


def marking_photo() -> tuple[bytes, tuple[int, int, int, int]]:
    """A synthetic photo of the seed entry's marking (benchmarks/rendering.py), and where
    the marking is on it."""
    rng = random.Random(8)
    photo = on_large_photo(render_marking("방-122", "Hang", rng, style="paint"), rng, (1600, 1200))
    return photo.jpeg(), photo.box


def test_a_box_dragged_on_a_photo_reads_the_marking_and_finds_the_entry(page, backend_name):
    data, (x, y, width, height) = marking_photo()
    page.goto("/search")
    page.get_by_label("Photo of the item or its markings").set_input_files(
        files=[FilePayload(name="casing.jpg", mimeType="image/jpeg", buffer=data)]
    )
    canvas = page.get_by_role("img", name="The chosen photo: drag a box around the marking")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    shown = canvas.bounding_box()
    assert shown is not None
    scale = shown["width"] / 1600
    page.mouse.move(shown["x"] + (x - 40) * scale, shown["y"] + (y - 40) * scale)
    page.mouse.down()
    page.mouse.move(
        shown["x"] + (x + width + 40) * scale, shown["y"] + (y + height + 40) * scale, steps=5
    )
    page.mouse.up()
    box = page.get_by_label("Where the marking is (optional)").input_value()
    dragged = [int(v) for v in box.split(",")]
    wanted = [x - 40, y - 40, width + 80, height + 80]
    assert all(abs(got - want) <= 8 for got, want in zip(dragged, wanted, strict=True)), box
    page.get_by_role("button", name="Match this photo").click()
    expect(page.get_by_role("heading", name="Read on the photo")).to_be_visible()
    expect(page.get_by_label("Markings you read")).to_have_value("방-122")
    first = page.locator(".results .result").first
    expect(first.get_by_role("link", name="Bang-122 artillery ammunition")).to_be_visible()
    screenshot(page, f"photo-read-{backend_name}")
    # Corrected and matched again, from the keyboard.
    page.get_by_label("Markings you read").fill("F-7")
    page.get_by_role("button", name="Find matching entries").press("Enter")
    expect(page.locator(".results .result").first).to_contain_text("F-7")


def test_a_photo_with_nothing_standing_out_says_to_draw_a_box(page):
    rng = random.Random(5)
    bare = bare_surface(render_marking("ZU-23", "Latn", rng), (1600, 1200), rng)
    page.goto("/search")
    page.get_by_label("Photo of the item or its markings").set_input_files(
        files=[FilePayload(name="metal.jpg", mimeType="image/jpeg", buffer=encode(bare, "JPEG"))]
    )
    page.get_by_role("button", name="Match this photo").click()
    heading = page.get_by_role("heading", name="Nothing legible was read on the photo")
    expect(heading).to_be_visible()
    expect(page.get_by_text("Nothing on the photo stood out as text")).to_be_visible()
    expect(page.get_by_text("Try again with a box drawn tightly")).to_be_visible()


def test_a_typed_box_reads_the_marking_on_a_phone(browser, base, console, backend_name):
    data, (x, y, width, height) = marking_photo()
    page = open_page(browser, console, base_url=base, viewport=PHONE)
    page.goto("/search")
    page.get_by_label("Photo of the item or its markings").set_input_files(
        files=[FilePayload(name="casing.jpg", mimeType="image/jpeg", buffer=data)]
    )
    page.get_by_label("Where the marking is (optional)").fill(
        f"{x - 40},{y - 40},{width + 80},{height + 80}"
    )
    page.get_by_label("Where the marking is (optional)").press("Enter")
    expect(page.get_by_role("heading", name="Read on the photo")).to_be_visible()
    expect(page.get_by_label("Markings you read")).to_have_value("방-122")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"photo-read-phone-{backend_name}")
    page.context.close()


# --- field work: observations, review, the map ---------------------------------------------


def sign_in(page: Page, key: str, target: str) -> None:
    page.goto(f"/signin?next={target}")
    page.get_by_label("Your API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{target}")


def field_keys(service: tuple[str, Service], backend_name: str) -> tuple[str, str]:
    engine = db.make_engine(service[1].database_url)
    sessions = db.make_sessionmaker(engine)
    contributor = issue_key(sessions, f"field-{backend_name}", Role.CONTRIBUTOR)
    editor = issue_key(sessions, f"reviewer-{backend_name}")
    engine.dispose()
    return contributor, editor


def test_an_observation_goes_from_the_field_to_the_entry_page_and_the_map(
    browser, base, console, service, backend_name
):
    contributor, editor = field_keys(service, backend_name)
    field = open_page(browser, console, base_url=base)
    sign_in(field, contributor, "/observations/new")
    field.get_by_label("Photos (1 to 10)").set_input_files(
        files=[FilePayload(name="casing.jpg", mimeType="image/jpeg", buffer=gps_photo(11))]
    )
    field.get_by_label("Markings as read").fill("방-122")
    field.get_by_label("Latitude").fill("48.1234")
    field.get_by_label("Longitude").fill("37.6543")
    field.get_by_label("The point stands for").select_option("exact")
    field.get_by_label("Place name").fill("Synthetic place (test data)")
    field.get_by_label("Date, or start of a range").fill("2024-02")
    field.get_by_role("button", name="Submit").click()
    expect(field.get_by_role("heading", level=1)).to_have_text(re.compile(r"Observation \d+"))
    expect(field.locator(".kicker")).to_contain_text("pending")
    expect(field.get_by_text("Coordinates given; shown to editors only.")).to_be_visible()
    screenshot(field, f"observation-submitted-{backend_name}")
    number = field.url.rsplit("/", 1)[1]
    field.context.close()

    review = open_page(browser, console, base_url=base)
    sign_in(review, editor, "/review")
    review.get_by_role("link", name=f"Observation {number}").click()
    candidates = review.locator(".candidates .card").first
    expect(candidates.get_by_role("link", name="Bang-122 artillery ammunition")).to_be_visible()
    expect(review.get_by_text("48.1234, 37.6543 (exact; shown to editors only)")).to_be_visible()
    screenshot(review, f"observation-review-{backend_name}")
    review.get_by_label("What the instance is").fill("Synthetic casing documented (test data)")
    review.get_by_label("Why").fill("The marking and calibre agree")
    review.get_by_role("button", name="Link", exact=True).click()
    expect(review.locator(".kicker")).to_contain_text("linked")

    review.goto("/entries/bang-122")
    expect(review.get_by_role("note").filter(has_text="Danger: explosive ordnance")).to_be_visible()
    pin = review.locator(".map.small a.pin")
    expect(pin).to_have_count(1)
    expect(review.get_by_text("48.12, 37.65 (place precision)")).to_be_visible()
    screenshot(review, f"entry-with-instance-{backend_name}")

    review.goto("/map")
    review.get_by_role("button", name="Show").focus()
    review.keyboard.press("Tab")  # the first pin is the next stop after the filters
    focused = review.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused.startswith("Bang-122 artillery ammunition: Synthetic casing documented")
    review.keyboard.press("Enter")
    review.wait_for_url(re.compile(r"/entries/bang-122#instance-\d+$"))
    review.goto("/map?category=rifle")
    expect(review.locator("a.pin")).to_have_count(0)
    review.context.close()

    anonymous = open_page(browser, console, base_url=base)
    anonymous.goto("/map")
    expect(anonymous.locator("a.pin")).to_have_count(1)
    expect(anonymous.locator(".timeline")).to_contain_text("2024")
    weight = page_weight(anonymous, f"map-{backend_name}")
    assert weight["external"] == []
    assert weight["before_photos"] < PAGE_BUDGET_BYTES
    screenshot(anonymous, f"map-{backend_name}")
    anonymous.context.close()
