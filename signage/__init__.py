"""signage: the screens and the voice of a public-service waiting hall."""

__version__ = "0.1.0"
