"""Matching observed markings against the catalogue: readings of a text (normalise), the
placeholder syntax of catalogue patterns (patterns), the in-memory candidate index (index),
scoring with explanations (scoring) and the catalogue-backed matcher (matcher)."""
