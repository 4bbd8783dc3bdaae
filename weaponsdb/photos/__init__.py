"""Reference photos: checking uploads, re-encoding them without metadata, thumbnails, the
content-addressed photo store, and matching by perceptual hash."""
