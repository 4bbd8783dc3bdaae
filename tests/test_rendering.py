"""The synthetic marking photos that the reading and matching benchmarks are measured on."""

from __future__ import annotations

import random

import numpy as np
import pytest

from benchmarks.legibility import legibility
from benchmarks.rendering import (
    DEGRADATIONS,
    SCRIPTS,
    STYLES,
    Degradation,
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


@pytest.mark.parametrize("degradation", ["clean", "rotated", "rotated 90"])
def test_the_ink_mask_lies_where_the_marking_changed_the_photo(degradation: str) -> None:
    rng = random.Random(f"ink/{degradation}")
    photo = render_marking("KRT-12", "Latn", rng, style="paint", degradation=degradation)
    assert photo.ink is not None
    assert photo.surface is not None
    assert photo.ink.size == photo.surface.size == photo.image.size
    ink = np.asarray(photo.ink) >= 128
    grey = np.asarray(photo.image.convert("L"), dtype=np.float32)
    # The paint differs from the metal: ink pixels and the others' tones are far apart.
    assert abs(grey[ink].mean() - grey[~ink & (np.asarray(photo.surface) > 0)].mean()) > 20
    x, y, width, height = photo.box
    inside = np.zeros_like(ink)
    inside[y : y + height, x : x + width] = True
    assert ink[~inside].sum() < 0.02 * ink.sum()


def test_a_faint_marking_in_strong_noise_is_not_counted_legible() -> None:
    """The legibility measure's two ends: a clean marking, read by anyone, and one whose
    paint barely differs from the metal under heavy grain, which no one could read."""
    clean = render_marking("KRT-12", "Latn", random.Random(5), style="paint")
    faint = Degradation("faint and noisy", contrast=0.02, noise=40.0)
    hidden = render_marking("KRT-12", "Latn", random.Random(5), style="paint", degradation=faint)
    assert legibility(clean).legible
    assert not legibility(hidden).legible
    assert legibility(hidden).contrast_to_noise < legibility(clean).contrast_to_noise / 10


def test_light_falling_unevenly_is_no_loss_of_legibility() -> None:
    """The ground is measured where the ink is, so shade across the item takes nothing from
    the ink's contrast (a measure of the whole region's spread called it illegible)."""
    even = render_marking("ЕЦИ-262Х", "Cyrl", random.Random(6), style="paint")
    shaded = render_marking(
        "ЕЦИ-262Х", "Cyrl", random.Random(6), style="paint", degradation="uneven light"
    )
    assert legibility(shaded).legible
    assert legibility(shaded).contrast_to_noise > 0.3 * legibility(even).contrast_to_noise


def test_letters_below_the_smallest_legible_size_are_not_counted_legible() -> None:
    tiny = Degradation("tiny", text_height=5)
    photo = render_marking("56式", "Hani", random.Random(7), style="paint", degradation=tiny)
    assert photo.text_height < 12
    assert not legibility(photo).legible
