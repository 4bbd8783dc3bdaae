"""The catalogue entry as one aggregate: an entry, its parts and the citations on them.

- parts.py: the table of an entry's parts (names, features, markings, ...), declared once;
- convert.py: database rows <-> interchange records, derived from that table;
- read.py: reading the catalogue: filters, pages, whole entries;
- bulk.py: many new entries with all their parts written at once, for imports.

Changing entries is editing.py and their history revisions.py, both in weaponsdb/.
"""
