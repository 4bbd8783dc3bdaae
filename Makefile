# The two set-up commands of the README, and the checks CI runs.
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin

.PHONY: serve test lint browser tesseract wrk bench bench-match bench-photos bench-load bench-read \
	bench-observations bench-import \
	learn-error-model learn-glyphs fonts

# A virtual environment with weaponsdb and its test tools, rebuilt when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable ".[test]"
	touch $@

## Run the service on the embedded SQLite database: install, migrate, load the seed, serve.
serve: $(BIN)/.installed tesseract
	$(BIN)/weaponsdb up --host $(HOST) --port $(PORT)

## Lint, type-check and run the whole test suite on SQLite and PostgreSQL.
# The suite runs on every core, a file to a worker (module fixtures are built once); the few
# tests that time the service against the machine run afterwards, alone.
test: lint browser tesseract
	$(BIN)/pytest -n auto --dist loadfile -m "not serial"
	$(BIN)/pytest -m serial

## Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser),
## CJK fonts so that screenshots show Hangul and Han markings, not empty boxes, and the Noto
## and DejaVu faces that benchmarks/rendering.py draws synthetic markings with.
FONT_PACKAGES := fonts-noto-cjk fonts-noto-core fonts-dejavu-core
BROWSER_PACKAGES := chromium $(FONT_PACKAGES)
browser:
	@(test -x /usr/bin/chromium && dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1) \
		|| apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) \
		|| (apt-get update && apt-get install -y --no-install-recommends $(BROWSER_PACKAGES))

## Tesseract's language data for every script the catalogue holds (the reader loads them
## through tesserocr, whose wheel brings the engine itself), and the engine's command.
TESSERACT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-kor tesseract-ocr-rus \
	tesseract-ocr-ukr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-fas \
	tesseract-ocr-ara tesseract-ocr-chi-sim-vert tesseract-ocr-kor-vert
tesseract:
	@dpkg -s $(TESSERACT_PACKAGES) >/dev/null 2>&1 \
		|| apt-get install -y --no-install-recommends $(TESSERACT_PACKAGES) \
		|| (apt-get update && apt-get install -y --no-install-recommends $(TESSERACT_PACKAGES))

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Benchmarks: figures and ratios, last line one JSON object each.
bench: bench-match bench-photos bench-load bench-read bench-observations bench-import

bench-match: $(BIN)/.installed
	$(BIN)/python -m benchmarks.match

# Regenerates weaponsdb/matching/learned.json: OCR confusions measured on rendered markings
# read by Tesseract (with how far glyph likeness leads them), then the score calibration
# (both seeded; see the README).
learn-error-model: $(BIN)/.installed tesseract learn-glyphs
	$(BIN)/python -m benchmarks.learn_confusions
	$(BIN)/python -m benchmarks.calibrate

# Regenerates weaponsdb/matching/glyphs.npz: how ideographs look, drawn in the Noto CJK faces.
learn-glyphs: $(BIN)/.installed fonts
	$(BIN)/python -m benchmarks.learn_glyphs

fonts:
	@dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1 \
		|| apt-get install -y --no-install-recommends $(FONT_PACKAGES) \
		|| (apt-get update && apt-get install -y --no-install-recommends $(FONT_PACKAGES))

# wrk: the load generator of benchmarks/http_load.py (a Python client saturates first).
wrk:
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk \
		|| (apt-get update && apt-get install -y --no-install-recommends wrk)

bench-load: $(BIN)/.installed wrk
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.scale

bench-import: $(BIN)/.installed
	$(BIN)/python -m benchmarks.bulk_import

bench-photos: $(BIN)/.installed
	$(BIN)/python -m benchmarks.photos

bench-observations: $(BIN)/.installed
	$(BIN)/python -m benchmarks.observations

bench-read: $(BIN)/.installed tesseract
	$(BIN)/python -m benchmarks.read
