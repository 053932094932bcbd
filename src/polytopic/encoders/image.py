"""Image encoders: classical features offline, CLIP-family vision towers from a local directory.

Inputs are image file paths, in any format and mode PIL reads (PNG, JPEG, GIF, ICO, ...;
not SVG, which must be rasterised first). Every image is turned into 8-bit RGB the same
way (:func:`load_image`): palette ("P"), grey ("L", "LA", 1-bit, 16-bit "I;16"), CMYK and
RGBA images alike are composited on white (icons are mostly transparent, and a transparent
pixel's colour is arbitrary), so a fully transparent icon and an all-white one are the
same image; sizes differ freely (each encoder scales the image itself). The cache key is the SHA-1 of the file's bytes:
the same icon at two paths is one cache entry, and an edited file is a new one.

No pretrained image network ships inside a PyPI package (``shared/MODELS.md``), so the
offline default, :class:`ImageFeatureEncoder`, is built from hand-made features: a
colour histogram in CIELAB, gradient-orientation histograms on a grid of cells (HOG-like)
and a small grey thumbnail. They see colour, layout and texture, not meaning; against
MiniLM text vectors a linear CCA finds weak but real signal
(``benchmarks/bench_image_features.py``). A CLIP or SigLIP vision tower from a local
directory is :class:`polytopic.encoders.clip.CLIPImageEncoder`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from polytopic.encoders.base import Encoder
from polytopic.errors import EncoderError

#: Version of the feature recipe: bump it whenever ImageFeatureEncoder's vectors change.
FEATURE_RECIPE = "v2"  # v2: 16-bit grey images scaled to 8 bits, no longer clipped to white

_WHITE = (255, 255, 255)
#: What PIL raises for a file it cannot read as an image.
_UNREADABLE = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)
#: 32-bit and 16-bit integer grey modes: PIL's conversion to RGB clips them at 255 instead
#: of scaling them, so they are scaled from 16 bits (PNG's deepest grey) to 8 first.
_WIDE_GREY = ("I", "I;16", "I;16L", "I;16B", "I;16N")


# --------------------------------------------------------------------------- reading images


def _where(path: str, item_id=None) -> str:
    return f"item {item_id!r}: {path}" if item_id is not None else str(path)


def _open_error(path: str, err: Exception, item_id=None) -> EncoderError:
    """The sentence for a file PIL cannot open, naming the file (and the item)."""
    if isinstance(err, FileNotFoundError):
        reason = "does not exist"
    elif isinstance(err, IsADirectoryError):
        reason = "is a directory, not an image file"
    elif isinstance(err, UnidentifiedImageError):
        reason = "is not an image (cannot identify image file)"
        if _looks_like_svg(path):
            reason += "; SVG images are not read: rasterise it to PNG first"
    else:
        reason = f"cannot be read as an image ({err})"
    return EncoderError(f"{_where(path, item_id)} {reason}")


def _looks_like_svg(path: str) -> bool:
    if str(path).lower().endswith((".svg", ".svgz")):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(512).lstrip().lower()
    except OSError:
        return False
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)


def load_image(path: str, size: int | None = None) -> Image.Image:
    """The image at ``path`` as 8-bit RGB, upright (EXIF orientation applied), transparent
    pixels composited on white.

    Every mode goes through RGBA: palette ("P", its transparency included), grey ("1",
    "L", "LA"), CMYK and RGB(A) images as PIL converts them, 16-bit grey ("I;16", "I")
    scaled to 8 bits first; an animated or multi-image file (GIF, ICO) gives its first
    (ICO: largest) image. With ``size``, the image is scaled to fit a ``size`` × ``size``
    square and padded with white (the aspect ratio is kept); without, it keeps its size.

    Raises
    ------
    EncoderError
        If the file is missing or is not an image PIL can read; the message names it.
    """
    try:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image)
            if upright.mode in _WIDE_GREY:
                upright = upright.point(lambda value: value / 257, "L")
            rgba = upright.convert("RGBA")
    except _UNREADABLE as err:
        raise _open_error(path, err) from None
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE + (255,)), rgba).convert("RGB")
    if size is not None and flat.size != (size, size):
        flat = ImageOps.pad(flat, (size, size), method=Image.Resampling.BILINEAR, color=_WHITE)
    return flat


def check_images(paths: Sequence[str], item_ids: Sequence | None = None) -> None:
    """Raise an :class:`EncoderError` naming the first path (and its item) that is not a
    readable image; the files' headers and checksums are checked, not their pixels.

    Call it before encoding so that a bad file stops a run before any work is done.
    """
    if item_ids is not None and len(item_ids) != len(paths):
        raise EncoderError(f"got {len(paths)} image paths but {len(item_ids)} item ids")
    for i, path in enumerate(paths):
        item_id = None if item_ids is None else item_ids[i]
        if not isinstance(path, (str, Path)):
            raise EncoderError(f"{_where(path, item_id)} is not a file path (images are given by their paths)")
        try:
            with Image.open(path) as image:
                image.verify()
        except _UNREADABLE as err:
            raise _open_error(str(path), err, item_id) from None


def file_key(path: str) -> bytes:
    """Cache key of an image: SHA-1 of the file's bytes (its content, not its name)."""
    try:
        return hashlib.sha1(Path(path).read_bytes()).digest()
    except OSError as err:
        raise _open_error(path, err) from None


class ImageEncoder(Encoder):
    """An :class:`Encoder` of image files: content-keyed cache, input order kept.

    ``encode(paths, item_ids=...)`` checks every file first and names the item of a bad one.
    """

    modality = "image"

    def __init__(self, **options):
        options.setdefault("sort_by_length", False)
        super().__init__(**options)

    def _key(self, item: str) -> bytes:
        return file_key(item)

    def encode(self, paths: Sequence[str], item_ids: Sequence | None = None) -> np.ndarray:
        """Vectors of the images at ``paths``, shape (n_paths, dimension), float32.

        Parameters
        ----------
        paths : sequence of str
            Image files, in any format PIL reads.
        item_ids : sequence, optional
            The item each path belongs to: all files are checked before encoding, and an
            error names the item as well as the file.

        Raises
        ------
        EncoderError
            If a file is missing or is not an image; already encoded batches stay cached.
        """
        if isinstance(paths, (str, Path)):
            raise EncoderError("encode takes a sequence of image paths, not a single path")
        paths = [str(p) if isinstance(p, Path) else p for p in paths]
        if item_ids is not None:
            check_images(paths, item_ids)
        return super().encode(paths)


# --------------------------------------------------------------------------- classical features

# sRGB (D65) to CIE XYZ, and the D65 white point (IEC 61966-2-1; CIE 15).
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_D65 = np.array([0.95047, 1.0, 1.08883])
_LAB_LOW = np.array([0.0, -80.0, -80.0])
_LAB_HIGH = np.array([100.0, 80.0, 80.0])


def _srgb_linear_table() -> np.ndarray:
    """Linear-light value of each 8-bit sRGB level (the sRGB transfer curve, inverted)."""
    c = np.arange(256) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_SRGB_LINEAR = _srgb_linear_table()


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB pixels: (..., 3) uint8 → (..., 3) float, L in [0, 100].

    Lab is roughly perceptually uniform: equal distances look equally different, so
    equal-width histogram bins are fair to every hue (CIE 15, §8.2.1).
    """
    xyz = (_SRGB_LINEAR[np.asarray(rgb, dtype=np.uint8)] @ _RGB_TO_XYZ.T) / _D65
    eps = (6 / 29) ** 3
    f = np.where(xyz > eps, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def colour_histogram(lab: np.ndarray, bins: tuple[int, int, int]) -> np.ndarray:
    """Joint L×a×b histogram of each image, as pixel fractions: (n, h, w, 3) → (n, prod(bins)).

    a and b are binned over [-80, 80] (clipped): odd bin counts put the neutral greys in
    the middle of a bin instead of on an edge.
    """
    n = lab.shape[0]
    bins_arr = np.array(bins)
    scaled = (lab.reshape(n, -1, 3) - _LAB_LOW) / (_LAB_HIGH - _LAB_LOW) * bins_arr
    cells = np.clip(scaled.astype(np.int64), 0, bins_arr - 1)
    flat = np.ravel_multi_index((cells[..., 0], cells[..., 1], cells[..., 2]), bins)
    offset = np.arange(n)[:, None] * int(np.prod(bins))
    counts = np.bincount((flat + offset).ravel(), minlength=n * int(np.prod(bins)))
    return counts.reshape(n, -1) / flat.shape[1]


def gradient_histograms(grey: np.ndarray, grids: Sequence[int], orientations: int) -> list[np.ndarray]:
    """Gradient-orientation histograms on grids of cells (HOG-like, Dalal & Triggs 2005):
    (n, h, w) → one (n, c² × orientations) array per ``c`` in ``grids``.

    Unsigned orientations; each pixel's gradient magnitude is split linearly between its
    two nearest orientation bins. Each cell's histogram is L2-normalised, so a faint
    outline counts as much as a contrasted one.
    """
    n, height, width = grey.shape
    gy, gx = np.gradient(grey, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    position = (np.arctan2(gy, gx) % np.pi) / np.pi * orientations - 0.5
    below = np.floor(position)
    bins = (below.astype(np.int64) % orientations, (below.astype(np.int64) + 1) % orientations)
    votes = (magnitude * (1 - (position - below)), magnitude * (position - below))
    blocks = []
    for c in grids:
        cell = (np.arange(height) * c // height)[:, None] * c + (np.arange(width) * c // width)[None, :]
        base = (np.arange(n)[:, None, None] * c * c + cell[None]) * orientations
        size = n * c * c * orientations
        hist = sum(np.bincount((base + b).ravel(), v.ravel(), size) for b, v in zip(bins, votes))
        blocks.append(_unit_rows(hist.reshape(n, c * c, orientations)).reshape(n, -1))
    return blocks


def grey_thumbnail(grey: np.ndarray, side: int) -> np.ndarray:
    """Mean lightness on a ``side`` × ``side`` grid, minus each image's mean: (n, h, w) → (n, side²)."""
    n, height, width = grey.shape
    blocks = grey[:, : height - height % side, : width - width % side]
    small = blocks.reshape(n, side, height // side, side, width // side).mean(axis=(2, 4)).reshape(n, -1)
    return small - small.mean(axis=1, keepdims=True)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows (last axis) scaled to unit L2 norm; all-zero rows stay zero."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


class ImageFeatureEncoder(ImageEncoder):
    """Classical image features, the offline default image encoder (no network, no weights).

    Each image is composited on white and fitted to a ``size`` × ``size`` square. Blocks:
    a CIELAB colour histogram, square-rooted (the Hellinger map, under which a dot
    product compares distributions fairly); one gradient-orientation histogram per grid
    of ``cells`` (shape and texture at several scales); a grey thumbnail (layout). Each
    block is scaled to unit length, so that none dominates by its dimension, and the
    concatenation is L2-normalised. These describe how an icon looks, not what it shows.

    The defaults were chosen on the Debian apps (``benchmarks/bench_image_features.py``):
    with a regularised CCA against MiniLM descriptions, a held-out description finds its
    own icon at MRR 0.177 with these 1,065 features, 0.154 with a compact 308 (5×5 a/b
    bins, one 4×4 grid), 0.018 at random.

    Parameters
    ----------
    size : int
        Side of the square each image is fitted to, in pixels.
    colour_bins : tuple of int
        Histogram bins for L, a and b.
    cells : tuple of int
        One gradient histogram block per grid of ``c`` × ``c`` cells.
    orientations : int
        Orientation bins per cell (unsigned, over 180°).
    thumbnail : int
        Side of the grey thumbnail.
    **options
        ``batch_size``, ``cache_dir``, ``progress`` (see :class:`Encoder`).
    """

    name = "image-features"

    def __init__(self, size: int = 64, colour_bins: tuple[int, int, int] = (5, 7, 7),
                 cells: tuple[int, ...] = (2, 4, 8), orientations: int = 9, thumbnail: int = 8, **options):
        options.setdefault("batch_size", 256)
        super().__init__(**options)
        self.size = int(size)
        self.colour_bins = tuple(int(b) for b in colour_bins)
        self.cells = tuple(int(c) for c in cells)
        self.orientations = int(orientations)
        self.thumbnail = int(thumbnail)
        self._check_parameters()

    def _check_parameters(self) -> None:
        if len(self.colour_bins) != 3 or min(self.colour_bins) < 1:
            raise EncoderError(f"colour_bins must be three counts >= 1 (L, a, b), got {self.colour_bins}")
        if min(self.size, self.orientations, self.thumbnail, *self.cells) < 1:
            raise EncoderError("size, cells, orientations and thumbnail must be >= 1")
        if any(self.size % side for side in (*self.cells, self.thumbnail)):
            raise EncoderError(f"size ({self.size}) must be a multiple of every cell grid {self.cells} "
                               f"and of thumbnail ({self.thumbnail})")

    @property
    def identity(self) -> str:
        return (f"image-features:{FEATURE_RECIPE}:size={self.size}:lab={'x'.join(map(str, self.colour_bins))}"
                f":hog={'+'.join(map(str, self.cells))}x{self.orientations}:thumbnail={self.thumbnail}")

    @property
    def dimension(self) -> int:
        hog = sum(c * c for c in self.cells) * self.orientations
        return int(np.prod(self.colour_bins)) + hog + self.thumbnail ** 2

    def features(self, pixels: np.ndarray) -> np.ndarray:
        """Feature vectors of RGB images, (n, size, size, 3) uint8 → (n, dimension) float."""
        lab = srgb_to_lab(pixels)
        lightness = lab[..., 0] / 100.0
        blocks = [np.sqrt(colour_histogram(lab, self.colour_bins))]
        blocks += gradient_histograms(lightness, self.cells, self.orientations)
        blocks.append(grey_thumbnail(lightness, self.thumbnail))
        return _unit_rows(np.concatenate([_unit_rows(b) for b in blocks], axis=1))

    def _encode_batch(self, paths):
        pixels = np.stack([np.asarray(load_image(p, self.size)) for p in paths])
        return self.features(pixels)
