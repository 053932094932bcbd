"""CLIP-family towers from a local directory: images and texts in one aligned space.

A CLIP (Radford et al. 2021) or SigLIP (Zhai et al. 2023) model maps an image and a text
to vectors compared by cosine. :class:`CLIPImageEncoder` is the vision tower (the image
encoder the registry builds for any image spec that is a path) and :class:`CLIPTextEncoder`
the text tower of the same directory, for models that need aligned text and image vectors.
No such model ships in a PyPI package (``shared/MODELS.md``): the weights must be on disk.
The identity hashes every file of the directory, so a changed weight never reads the
vectors of the original.
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
from functools import cached_property
from pathlib import Path

import numpy as np

from polytopic.encoders.base import Encoder
from polytopic.encoders.identity import model_source
from polytopic.encoders.image import ImageEncoder, load_image
from polytopic.errors import EncoderError

logger = logging.getLogger(__name__)

#: Supported ``model_type`` values → the transformers class holding each tower.
_TOWER_CLASSES = {
    "clip": {"image": "CLIPModel", "text": "CLIPModel"},
    "siglip": {"image": "SiglipModel", "text": "SiglipModel"},
    "clip_vision_model": {"image": "CLIPVisionModelWithProjection"},
    "clip_text_model": {"text": "CLIPTextModelWithProjection"},
}


def _is_supported(config: dict) -> bool:
    towers = _TOWER_CLASSES.get(config.get("model_type"))
    if towers is None:
        return False
    # A lone tower must be the *WithProjection class: a bare CLIPVisionModel has no projection.
    return len(towers) == 2 or set(towers.values()) <= set(config.get("architectures") or [])


def _read_config(directory: Path) -> dict | None:
    try:
        return json.loads((directory / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def resolve_clip_directory(path: str | Path) -> tuple[Path, str]:
    """The transformers model directory of a CLIP-family model, and its ``model_type``.

    ``path`` is a transformers directory (``CLIPModel``, ``CLIPVisionModelWithProjection``,
    ``CLIPTextModelWithProjection``, ``SiglipModel``) or a sentence-transformers folder
    whose ``modules.json`` points at one (``0_CLIPModel/`` in older folders, the folder
    itself in newer ones).

    Raises
    ------
    EncoderError
        If ``path`` is not a directory, or holds no supported model.
    """
    root = Path(path)
    if not root.is_dir():
        raise EncoderError(
            f"{str(path)!r} is not a directory: an image encoder is 'image-features' (the offline "
            "default) or the path of a local CLIP or SigLIP model directory"
        )
    candidates = [root]
    try:
        modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
        candidates = [root / module.get("path", "") for module in modules] + candidates
    except (OSError, ValueError, AttributeError, TypeError):
        pass  # not a sentence-transformers folder
    configs = [(directory, _read_config(directory) or {}) for directory in candidates]
    for directory, config in configs:
        if _is_supported(config):
            return directory, config["model_type"]
    seen = ", ".join(sorted({str(c["model_type"]) for _, c in configs if "model_type" in c})) or "no config.json"
    raise EncoderError(
        f"{path} is not a CLIP-family model directory ({seen}): expected a transformers CLIP "
        "or SigLIP model (with its projection head) or a sentence-transformers CLIP folder"
    )


def _tower_output(model, tower: str, inputs: dict):
    """Projected embeddings of one tower: ``get_<tower>_features`` where the model has it
    (a tensor, or in transformers 5 an output whose ``pooler_output`` is projected), else
    the ``<tower>_embeds`` of a ``*WithProjection`` model."""
    import torch

    method = getattr(model, f"get_{tower}_features", None)
    output = method(**inputs) if method is not None else model(**inputs)
    if isinstance(output, torch.Tensor):
        return output
    embeds = getattr(output, f"{tower}_embeds", None)
    return embeds if embeds is not None else output.pooler_output


class _CLIPTower(Encoder):
    """What the image and text towers of a CLIP-family directory share: loading, device,
    identity (the content of the model's files) and the forward pass.

    Parameters
    ----------
    path : str or Path
        A transformers CLIP/SigLIP directory or a sentence-transformers CLIP folder.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ...; default: CUDA when available.
    normalize : bool
        L2-normalise the vectors (CLIP compares images and texts by cosine).
    **options
        ``batch_size``, ``cache_dir``, ``progress`` (see :class:`Encoder`).
    """

    #: "image" or "text".
    tower: str

    def __init__(self, path: str | Path, device: str | None = None, normalize: bool = True, **options):
        options.setdefault("batch_size", 32)
        super().__init__(**options)
        self.name = str(path)
        self.path = Path(path)
        self.model_dir, self.family = resolve_clip_directory(path)
        self._model_class = _TOWER_CLASSES[self.family].get(self.tower)
        if self._model_class is None:
            raise EncoderError(f"{path} holds a {self.family} model, which has no {self.tower} tower")
        self.device = device
        self.normalize = normalize

    @cached_property
    def config(self):
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(self.model_dir)

    @cached_property
    def model(self):
        import torch
        import transformers

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            model = getattr(transformers, self._model_class).from_pretrained(self.model_dir)
        except Exception as err:  # transformers raises many types for a broken directory
            raise EncoderError(f"cannot load the {self.family} model in {self.model_dir} ({err})") from err
        return model.to(device).eval()

    @cached_property
    def identity(self) -> str:
        return (f"clip:{model_source(self.path, self.cache_root)}:{self.family}:{self.tower}"
                f":normalize={self.normalize}:{self._preprocessing}")

    @cached_property
    def dimension(self) -> int:
        config = self.config
        if self.family != "siglip":
            return int(config.projection_dim)
        if self.tower == "image":
            return int(config.vision_config.hidden_size)
        return int(getattr(config.text_config, "projection_size", None) or config.text_config.hidden_size)

    @property
    @abstractmethod
    def _preprocessing(self) -> str:
        """What the identity adds about turning an input into tensors."""

    @abstractmethod
    def _inputs(self, items: list[str]) -> dict:
        """The model's keyword arguments for one batch, as tensors."""

    def _encode_batch(self, items):
        import torch

        inputs = {k: v.to(self.model.device) for k, v in self._inputs(items).items()}
        with torch.inference_mode():
            vectors = _tower_output(self.model, self.tower, inputs).float()
        if self.normalize:
            vectors = torch.nn.functional.normalize(vectors, dim=-1)
        return vectors.cpu().numpy()


class CLIPImageEncoder(_CLIPTower, ImageEncoder):
    """The vision tower of a local CLIP-family model: a transformers ``CLIPModel``,
    ``CLIPVisionModelWithProjection`` or ``SiglipModel`` directory, or a
    sentence-transformers CLIP folder (options: ``device``, ``normalize``, ``batch_size``,
    ``cache_dir``, ``progress``); an :class:`EncoderError` if ``path`` holds no such model.

    Images go through the model's own image processor, the PIL implementation (it needs
    no torchvision, and gives the same vectors wherever it runs).
    """

    tower = "image"

    @property
    def _preprocessing(self) -> str:
        return "processor=pil"

    @cached_property
    def processor(self):
        from transformers import AutoImageProcessor

        try:
            return AutoImageProcessor.from_pretrained(self.model_dir, backend="pil")
        except Exception as err:  # a missing or unreadable preprocessor configuration
            raise EncoderError(f"cannot load the image processor of {self.model_dir} ({err})") from err

    def _inputs(self, items):
        images = [load_image(path) for path in items]
        return {"pixel_values": self.processor(images=images, return_tensors="pt")["pixel_values"]}


class CLIPTextEncoder(_CLIPTower):
    """The text tower of a CLIP-family model: vectors aligned with :class:`CLIPImageEncoder`'s.

    Texts are cut to the tower's window (77 word pieces for OpenAI's CLIP); SigLIP texts
    are padded to the window, as SigLIP was trained.
    """

    tower = "text"

    @cached_property
    def tokenizer(self):
        from transformers import AutoTokenizer

        try:
            return AutoTokenizer.from_pretrained(self.model_dir)
        except Exception as err:  # a missing or unreadable tokenizer
            raise EncoderError(f"cannot load the tokenizer of {self.model_dir} ({err})") from err

    @cached_property
    def window(self) -> int:
        config = self.config if self.family == "clip_text_model" else self.config.text_config
        return int(config.max_position_embeddings)

    @property
    def _preprocessing(self) -> str:
        return f"window={self.window}"

    def _lengths(self, texts):
        lengths = np.array([len(ids) for ids in self.tokenizer(list(texts))["input_ids"]], dtype=np.int64)
        too_long = int((lengths > self.window).sum())
        if too_long:
            logger.warning("%d of %d texts are longer than %s's text window of %d tokens and are truncated to it",
                           too_long, len(texts), self.name, self.window)
        return lengths

    def _inputs(self, items):
        padding = "max_length" if self.family == "siglip" else True
        encoded = self.tokenizer(items, padding=padding, truncation=True, max_length=self.window, return_tensors="pt")
        return {k: v for k, v in encoded.items() if k in ("input_ids", "attention_mask")}


def text_encoder(path: str, **options):
    """The text encoder of a path or hub name: the text tower of a local CLIP-family model
    (aligned with its image tower), else a sentence-transformers model (the registry's entry
    for any text spec that is not a registered name)."""
    from polytopic.encoders.sentence import SentenceTransformerEncoder

    try:
        resolve_clip_directory(path)
    except EncoderError:
        return SentenceTransformerEncoder(path, **options)
    return CLIPTextEncoder(path, **options)


def same_model(text: object, image: object) -> bool:
    """Whether ``text`` and ``image`` are the two towers of one CLIP-family model, so
    that their vectors live in one space."""
    return (isinstance(text, CLIPTextEncoder) and isinstance(image, CLIPImageEncoder)
            and text.model_dir.resolve() == image.model_dir.resolve())
