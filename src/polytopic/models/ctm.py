"""ProdLDA, CombinedTM and ZeroShotTM: one VAE, three choices of input.

- ProdLDA (Srivastava & Sutton 2017): bag of words in, bag of words out.
- CombinedTM (Bianchi et al. 2021a): bag of words and sentence embedding in.
- ZeroShotTM (Bianchi et al. 2021b): sentence embedding in; with a multilingual
  encoder it infers topics for documents in any language the encoder knows.

Defaults are Mueller & Dredze (2021) §4: two hidden layers of 100 softplus units,
dropout 0.2, Adam with learning rate 2e-3 (β₁ = 0.99 as in the reference CTM code),
batch size 64, 20 posterior samples at inference. ``epochs`` defaults to the
reference CTM implementation's 100 (the paper ran 60).
"""

from __future__ import annotations

from typing import ClassVar

from polytopic.encoders import Encoder
from polytopic.encoders.clip import same_model
from polytopic.errors import ViewError
from polytopic.models.variational import VAETopicModel
from polytopic.models.views import IMAGE
from polytopic.params import Anything, OneOf


class ProdLDA(VAETopicModel):
    """ProdLDA (Srivastava & Sutton 2017): the VAE on bags of words alone."""

    name = "prodlda"
    uses_bow_input = True


class _EmbeddingTopicModel(VAETopicModel):
    """A CTM whose inference network reads sentence embeddings from ``encoder``."""

    reads_vectors = True

    _parameter_constraints: ClassVar[dict] = {**VAETopicModel._parameter_constraints, "encoder": Anything()}

    def __init__(self, n_topics: int = 10, *, encoder: str | Encoder | dict | None = None, **params):
        super().__init__(n_topics, **params)
        self.encoder = encoder


class CombinedTM(_EmbeddingTopicModel):
    """CombinedTM (Bianchi et al. 2021a): bag of words and sentence embedding in.

    ``encoder``: an :class:`~polytopic.encoders.Encoder`, a registered name or a
    sentence-transformers name/path (default: the packaged all-MiniLM-L6-v2).

    ``adapt_embedding`` (default True) is the reference code's parametrisation: the
    embedding is mapped to vocabulary-size units and concatenated to the bag of words
    before the first hidden layer. ``False`` feeds the embedding to the first hidden layer
    directly: the same family of functions (two linear maps in a row compose into one)
    with 0.93 M fewer parameters, but not the same training dynamics. On 20,000 Debian
    descriptions (K = 50, 60 epochs, two seeds; ``benchmarks/results/ctm.json``) it fitted
    5.4× faster than the reference with the reference's NPMI (0.059 against 0.059), while
    the default fitted 3.2× faster with more coherent topics (0.068).
    """

    name = "combined"
    uses_bow_input = True
    _parameter_constraints: ClassVar[dict] = {**_EmbeddingTopicModel._parameter_constraints,
                                              "adapt_embedding": OneOf((True, False))}

    def __init__(self, n_topics: int = 10, *, adapt_embedding: bool = True, **params):
        super().__init__(n_topics, **params)
        self.adapt_embedding = adapt_embedding


class ZeroShotTM(_EmbeddingTopicModel):
    """ZeroShotTM (Bianchi et al. 2021b): sentence embedding in, so ``transform`` works
    on any language the encoder knows (``language="de"`` with ``encoder="use-multilingual"``).

    With an aligned text-image encoder it also transforms images (the M3L paper's
    ZeroshotTM row, Zosa & Pivovarova 2022, Table 2): ``encoder`` the text tower and
    ``image_encoder`` the image tower of one local CLIP-family model. No such model ships
    offline, and an unaligned pair (texts through USE, icons through the image features)
    is refused: its vectors do not share a space.
    """

    name = "zeroshot"
    uses_bow_input = False
    transform_reads_bow = False
    _parameter_constraints: ClassVar[dict] = {**_EmbeddingTopicModel._parameter_constraints,
                                              "image_encoder": Anything()}

    def __init__(self, n_topics: int = 10, *, image_encoder=None, **params):
        super().__init__(n_topics, **params)
        self.image_encoder = image_encoder

    def transform_view(self, language, images):
        self._check_fitted()
        if not images or IMAGE in self.views_ or self.image_encoder is None:
            return super().transform_view(language, images)
        if language is not None:
            raise ViewError("transform reads one view: give language=... or images=True, not both")
        text, image = self._encoder_for(self.language_), self._encoder_for(IMAGE)
        if not same_model(text, image):
            raise ViewError(f"{type(self).__name__} reads images only through an aligned text-image encoder: "
                            f"its encoder ({text.name}) must be the text tower of the CLIP-family model whose image "
                            f"tower reads the images ({image.name})")
        return IMAGE
