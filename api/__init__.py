"""The HTTP face of weaponsdb: FastAPI routes that translate HTTP to the core library."""
