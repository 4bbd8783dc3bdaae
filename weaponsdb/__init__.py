"""weaponsdb: a catalogue of weapons and munitions, identified by what can be seen on them."""

__version__ = "0.1.0"
