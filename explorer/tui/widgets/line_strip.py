"""A Textual `Strip` for lines drawn once and thrown away: its caches are made when first used.

Textual's `Strip.__init__` makes seven small caches for every line. A thousand ticking rows make
a thousand new lines a second, and those caches were most of the objects the garbage collector
then had to walk (a full collection of the app's heap costs ~0.2 s). A drawn line usually needs
none (the compositor's `divide` of a line that lies within one widget is the line itself), so
this makes each on first use.

Behaves as a `Strip` in every other way; never holds anything but the line it was given.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.cache import FIFOCache
from textual.strip import Strip

# The FIFOCache slots of Strip (textual 8) and their sizes there; any other missing slot is an error.
_CACHES = {
    "_divide_cache": 4, "_crop_cache": 16, "_style_cache": 16, "_filter_cache": 4,
    "_line_length_cache": 4, "_crop_extend_cache": 4, "_offsets_cache": 4,
}


class LineStrip(Strip):
    __slots__ = ()

    def __init__(self, segments: list[Segment], cell_length: int) -> None:
        """`segments` is kept as given (not copied): the caller must not change it afterwards."""
        self._segments = segments
        self._cell_length = cell_length
        self._render_cache = None
        self._link_ids = None
        self._cell_count = None

    def divide(self, cuts):
        """The compositor cuts every line at widget edges; a line within one widget is itself."""
        cuts = list(cuts)
        if cuts == [self._cell_length]:
            return [self]
        return super().divide(cuts)

    def __getattr__(self, name: str):
        # Only reached for a slot never set: one of the caches, on its first use.
        size = _CACHES.get(name)
        if size is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        cache: FIFOCache = FIFOCache(size)
        setattr(self, name, cache)
        return cache
