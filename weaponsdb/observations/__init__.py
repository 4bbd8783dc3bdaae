"""Observations from the field: sightings sent by contributors (records.py, submitting.py),
reviewed by editors into documented instances (reviewing.py), with the chain of custody of
their evidence files (evidence.py, custody.py)."""
