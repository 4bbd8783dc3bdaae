"""The synthetic marking photos that the reading and matching benchmarks are measured on."""

from __future__ import annotations

import random

import numpy as np
import pytest

from benchmarks.rendering import (
    DEGRADATIONS,
    SCRIPTS,
    STYLES,
    on_large_photo,
    render_marking,
    sibling_designations,
    synthetic_designation,
)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_seed_makes_the_same_photo_again(script: str) -> None:
    first = render_marking("X", script, random.Random(1), degradation="combined")
    again = render_marking("X", script, random.Random(1), degradation="combined")
    assert first.image.tobytes() == again.image.tobytes()
    assert first.box == again.box


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("degradation", sorted(DEGRADATIONS))
def test_the_marking_lies_inside_its_box_and_stands_out(style: str, degradation: str) -> None:
    rng = random.Random(f"{style}/{degradation}")
    text = synthetic_designation("Latn", rng)
    photo = render_marking(text, "Latn", rng, style=style, degradation=degradation)
    x, y, width, height = photo.box
    assert min(x, y) >= 0
    assert min(width, height) > 0
    assert x + width <= photo.image.width
    assert y + height <= photo.image.height
    grey = np.asarray(photo.image.convert("L"), dtype=np.float32)
    inside = grey[y : y + height, x : x + width]
    above = grey[max(0, y - height // 2) : y, x : x + width]
    # The marking changes the surface inside its box: the box is not empty metal.
    assert inside.std() > above.std()


def test_designations_are_shaped_in_their_script_and_siblings_differ_by_one() -> None:
    rng = random.Random(4)
    for script in SCRIPTS:
        text = synthetic_designation(script, rng)
        siblings = sibling_designations(text, script, rng, 3)
        assert len(siblings) == 3
        for sibling in siblings:
            assert len(sibling) == len(text)
            assert sum(a != b for a, b in zip(sibling, text, strict=True)) == 1


def test_a_large_photo_keeps_the_marking_where_its_box_says() -> None:
    rng = random.Random(9)
    photo = render_marking("KRT-12", "Latn", rng, style="paint")
    large = on_large_photo(photo, rng, size=(1200, 900))
    assert large.image.size == (1200, 900)
    x, y, width, height = large.box
    crop = large.image.crop((x, y, x + width, y + height))
    bx, by, bw, bh = photo.box
    assert crop.tobytes() == photo.image.crop((bx, by, bx + bw, by + bh)).tobytes()
