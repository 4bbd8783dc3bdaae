"""The reader in the core and on the command line, with real Tesseract on synthetic marking
photos (benchmarks/rendering.py): turned and upside-down markings read upright, boxes placed
on the photo, text found without a box, the command's table, JSON and refusals. Few photos,
since every one is read many times over."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from benchmarks.rendering import bare_surface, marking_catalogue, on_large_photo, render_marking
from tests.factories import import_document
from tests.test_cli import run
from tests.test_reading_api import overlap, same_marking
from weaponsdb import db
from weaponsdb.reading.engine import Tesseract
from weaponsdb.reading.preparing import TEXT_HEIGHT, Region, estimate, grey_region
from weaponsdb.reading.reader import AGREED, Box, Reader, _inside, _letters_first
from weaponsdb.reading.scripts import (
    Script,
    fits,
    parse_scripts,
    plausibility,
    script_of,
    tidy,
)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(Tesseract())


def test_scripts_and_tidying() -> None:
    assert script_of("ПГ-7ВМ") is Script.CYRILLIC
    assert script_of("방-122") is Script.HANGUL
    assert script_of("56式") is Script.HAN
    assert script_of("فجر-5") is Script.ARABIC
    assert script_of("122") is None
    assert tidy("방 -122") == "방-122"
    assert tidy("56 式") == "56式"
    assert tidy("KRT 12 17") == "KRT 12 17"
    assert parse_scripts("Hang, Cyrl") == [Script.HANGUL, Script.CYRILLIC]
    with pytest.raises(ValueError, match="Klingon"):
        parse_scripts("Klingon")


def test_a_reading_is_plausible_in_the_script_whose_letters_it_has() -> None:
    assert plausibility("방-122", Script.HANGUL) == 1
    assert plausibility("K-2 방", Script.HANGUL) == 1  # Latin letters are in every script's
    assert plausibility("방-122", Script.ARABIC) < 1
    # Lone jamo and stray signs are what a model makes of a script it does not know.
    assert plausibility("340-ㄴ의", Script.HANGUL) < plausibility("340-의", Script.HANGUL)
    assert plausibility("1.£)4b", Script.LATIN) < plausibility("154b", Script.LATIN)
    assert plausibility("--", Script.LATIN) == 0


def test_a_reading_with_more_characters_than_its_line_holds_is_doubted() -> None:
    # A line four heights long holds a designation of that length, along or down the photo.
    assert fits("明弹-106", 160, 40) == fits("明弹-106", 40, 160) == 1
    assert fits("ZU-23", 160, 40) == 1
    # Letters on their sides read as a column of CJK make many characters of each one.
    crowded = fits("어게케체케제제재제제젝베베메", 40, 160)
    assert crowded < 0.5
    assert fits("어게케체케제제재", 40, 160) > crowded


def test_a_strip_along_the_edge_of_the_region_read_counts_less_than_a_line_inside() -> None:
    region = Region(10, 10, 186, 419)
    marking = Region(69, 44, 73, 307)  # a line running down the middle
    edge = Region(10, 10, 33, 419)  # the photo's left border, top to bottom
    assert _inside(marking, region) == 1
    assert _inside(edge, region) < 1


def test_a_right_to_left_marking_read_number_first_is_offered_letters_first() -> None:
    assert _letters_first("۹۱-هصد") == "هصد-۹۱"
    assert _letters_first("855 اثا") == "اثا 855"
    # Left-to-right markings and markings read in their order are left as they are.
    assert _letters_first("هصد-۹۱") is None
    assert _letters_first("122-ZU") is None


def test_the_characters_tesseract_hesitated_over_are_offered_as_unknown() -> None:
    # Tesseract says it is 83 % sure of '97.4290' for this worn, blurred 'ВТ-429'; the
    # characters it misread had rivals nearly as likely, and are offered as '?'.
    engine = Tesseract()
    readings = {}
    for degradation in ("clean", "combined"):
        photo = render_marking(
            "ВТ-429", "Cyrl", random.Random(3), style="paint", degradation=degradation
        )
        [readings[degradation]] = engine.read(photo.image.convert("L"), "rus", 6)
    clean, worn = readings["clean"], readings["combined"]
    assert clean.text == clean.unsure == "ВТ-429"
    assert worn.text != "ВТ-429"
    assert worn.confidence > 0.8
    misread = [
        position
        for change in Levenshtein.opcodes(worn.text, "ВТ-429")
        if change.tag != "equal"
        for position in range(change.src_start, change.src_end)
    ]
    assert misread
    assert all(worn.unsure[position] == "?" for position in misread), worn
    assert sum(c.isdigit() for c in worn.unsure) >= 2  # what it read clearly is kept


def test_light_falling_unevenly_does_not_change_the_letters_size_or_slant() -> None:
    clean = render_marking("ZU-23", "Latn", random.Random(3), style="paint")
    shaded = render_marking(
        "ZU-23", "Latn", random.Random(3), style="paint", degradation="uneven light"
    )
    found = [estimate(grey_region(p.image, Region(0, 0, *p.image.size))) for p in (clean, shaded)]
    assert found[1].scale == pytest.approx(found[0].scale, rel=0.25)
    assert found[1].skew == pytest.approx(found[0].skew, abs=2)
    with pytest.raises(ValueError, match="four whole numbers"):
        Box.parse("1,2,3")


def test_the_letters_height_is_measured_whatever_the_marking_is_made_with() -> None:
    """Struck letters show only a light edge and a shadow, stencilled ones are cut by
    bridges: the height comes from the letters' relief, not from a threshold's slivers, so
    the text is scaled to the height Tesseract reads best (a threshold of the tones was
    off by a factor of 1.5 or more for 3 of these 18 photos, every one a stamp)."""
    off = []
    for style in ("stamp", "stencil", "paint"):
        for degradation in ("clean", "low contrast", "uneven light", "blur", "noise", "jpeg"):
            rng = random.Random(f"height/{style}/{degradation}")
            photo = render_marking("S-118B", "Latn", rng, style=style, degradation=degradation)
            geometry = estimate(grey_region(photo.image, Region(0, 0, *photo.image.size)))
            ratio = TEXT_HEIGHT / geometry.scale / photo.text_height
            if not 1 / 1.5 < ratio < 1.5:
                off.append((style, degradation, round(ratio, 2)))
    assert len(off) <= 2, off


def test_a_marking_turned_on_its_side_is_read_upright(reader: Reader) -> None:
    photo = render_marking("ЕЦИ-262Х", "Cyrl", random.Random(3), degradation="rotated 90")
    reading = reader.read(photo.image)
    best = max(reading.lines, key=lambda line: line.confidence)
    assert same_marking(best.text, "ЕЦИ-262Х"), best
    assert best.script is Script.CYRILLIC
    assert overlap(best.box.model_dump(), photo.box) > 0.6


def test_an_upside_down_photo_is_read_the_right_way_up(reader: Reader) -> None:
    photo = render_marking("440-2式", "Hani", random.Random(4), style="paint")
    upside_down = photo.image.rotate(180)
    reading = reader.read(upside_down, scripts=[Script.HAN])
    texts = [line.text for line in reading.lines]
    assert any(same_marking(text, "440-2式") for text in texts), texts
    x, y, width, height = photo.box
    flipped = (photo.image.width - x - width, photo.image.height - y - height, width, height)
    assert overlap(reading.lines[0].box.model_dump(), flipped) > 0.6


def test_without_a_box_the_text_is_found_on_a_large_photo(reader: Reader) -> None:
    rng = random.Random(9)
    photo = on_large_photo(render_marking("MT-12", "Latn", rng), rng, size=(2400, 1800))
    reading = reader.read(photo.image)
    assert reading.box is None
    assert any(overlap(region.model_dump(), photo.box) > 0.9 for region in reading.regions)
    found = [line for line in reading.lines if same_marking(line.text, "MT-12")]
    assert found, [line.text for line in reading.lines]
    assert overlap(found[0].box.model_dump(), photo.box) > 0.6


def test_nothing_is_read_with_confidence_on_a_blank_surface(reader: Reader) -> None:
    photo = render_marking(" ", "Latn", random.Random(2))
    guesses = reader.read(photo.image).lines
    assert len(guesses) <= 1  # at most the likeliest guess, shown as one
    assert all(line.confidence < AGREED for line in guesses)


@pytest.fixture
def marking_photo(tmp_path: Path) -> Path:
    path = tmp_path / "marking.png"
    render_marking("ZU-23", "Latn", random.Random(21), style="paint").image.save(path)
    return path


def test_the_command_reads_a_photo_as_a_table_and_as_json(
    tmp_path: Path, marking_photo: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    table = run(url, "read", str(marking_photo))
    assert table.returncode == 0, table.stderr
    assert "ZU-23" in table.stdout
    as_json = run(url, "read", str(marking_photo), "--box", "40,40,260,90", "--json")
    assert as_json.returncode == 0, as_json.stderr
    reading = json.loads(as_json.stdout)
    assert reading["box"] == {"x": 40, "y": 40, "width": 260, "height": 90}
    assert any(same_marking(line["text"], "ZU-23") for line in reading["lines"])


def test_the_command_says_when_nothing_on_a_photo_stood_out_to_read(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "bare.jpg"
    bare_surface(render_marking("ZU-23", "Latn", rng), (2400, 1800), rng).save(path)
    table = run(f"sqlite:///{tmp_path / 'cli.sqlite3'}", "read", str(path))
    assert table.returncode == 0, table.stderr
    assert "0 lines, 0 passes" in table.stdout
    assert "nothing on the photo stood out as text" in table.stdout
    assert "--box" in table.stdout


def test_the_command_identifies_a_photo(tmp_path: Path, marking_photo: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    db.migrate(url)
    document = marking_catalogue([("synthetic-zu", "ZU-23", "Latn")], random.Random(1))
    import_document(db.make_sessionmaker(db.make_engine(url)), document)
    found = run(url, "identify", str(marking_photo), "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["candidates"][0]["slug"] == "synthetic-zu"
    table = run(url, "identify", str(marking_photo))
    assert "synthetic-zu" in table.stdout


def test_the_command_refuses_what_it_cannot_read(
    tmp_path: Path, marking_photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    bad_box = run(url, "read", str(marking_photo), "--box", "1,2,three,4")
    assert bad_box.returncode == 2
    assert "four whole numbers" in bad_box.stderr
    not_a_photo = tmp_path / "notes.png"
    not_a_photo.write_text("not a photo")
    refused = run(url, "read", str(not_a_photo))
    assert refused.returncode == 1
    assert "not a JPEG, PNG, WebP, TIFF image" in refused.stderr
    empty = tmp_path / "tessdata"
    empty.mkdir()
    monkeypatch.setenv("WEAPONSDB_TESSDATA_DIR", str(empty))
    unavailable = run(url, "read", str(marking_photo))
    assert unavailable.returncode == 1
    assert "missing Tesseract language data 'eng'" in unavailable.stderr
