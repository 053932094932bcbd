"""ZeroshotTM-KD (Pivovarova & Zosa 2021; the baseline of Zosa & Pivovarova 2022, §4.3):
a ZeroShotTM student for one view, distilled from a ZeroShotTM teacher of another.

The teacher is a fitted :class:`~polytopic.models.ctm.ZeroShotTM` of one language. The
student reads another view of the same aligned items — another language's texts, or the
items' images — through its own encoder and inference network, and its prior for item d
is not the shared Dirichlet-like prior but the teacher's posterior q_T(θ | x_d) of d's
teacher-language text ("the parameters learned by the teacher model as priors for the
student", §4.3; Hinton et al. 2015). Its loss per item is the ZeroShotTM ELBO with that
prior::

    KL(q_S(θ | v_d) ‖ q_T(θ | x_d))  −  Σ_w n_dw log p(w | θ)

Items without a teacher text keep the student's own learned prior. The reconstructed bag
of words is the student language's (a text student) or, for an image student, the
teacher language's text of the same item — images have no words, so image topics are
described by the teacher language's words.

The student is trained after the teacher and never changes it; what is saved is the
student alone (the teacher is named in the configuration, not copied).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from polytopic.encoders import get_encoder
from polytopic.errors import ParameterError, ViewError
from polytopic.models.ctm import ZeroShotTM
from polytopic.models.files import load_model
from polytopic.models.m3l_network import gaussian_kl
from polytopic.models.training import BatchSource
from polytopic.models.vae import TopicVAE
from polytopic.models.views import IMAGE, View
from polytopic.params import Anything, Interval, OneOf, Optional

_TEACHER_BATCH = 1024


def distillation_loss(network: TopicVAE):
    """The student's negated ELBO per row with the teacher's posterior as its prior."""

    def loss(bow, embedding, prior_mean, prior_log_variance, has_teacher):
        mean, log_variance = network.inference(None, embedding)
        z = mean + torch.randn_like(mean) * (0.5 * log_variance).exp()
        reconstruction = -bow.log_likelihood(network.decoder(torch.softmax(z, dim=1)))
        to_teacher = gaussian_kl(mean, log_variance, prior_mean, prior_log_variance)
        kl = torch.where(has_teacher, to_teacher, network.prior.kl(mean, log_variance))
        return kl + reconstruction

    return loss


class ZeroShotKD(ZeroShotTM):
    """ZeroshotTM-KD: a ZeroShotTM student whose per-item prior is a teacher's posterior.

    Parameters
    ----------
    n_topics : int, optional
        Must be the teacher's K (default: the teacher's, set when fitting).
    teacher : ZeroShotTM or path
        A fitted ZeroShotTM, or the directory of a saved one (a ``polytopic fit`` run).
    language : str, optional
        The student's language (default: the corpus's first language that is not the
        teacher's). Ignored with ``images``.
    images : bool
        Distil into an image student instead (the corpus needs images).
    encoder : str, Encoder or {view: ...}, optional
        The student's text encoder (default: the teacher's — an aligned multilingual
        encoder such as ``use-multilingual``).
    image_encoder : str or Encoder, optional
        The image student's encoder (default: the offline image features).

    Other Parameters
    ----------------
        As for :class:`~polytopic.models.ctm.ZeroShotTM`.

    Precomputed ``embeddings`` are given per view: ``{"it": student, "en": teacher}``.
    """

    name = "zeroshot-kd"
    image_view = True
    takes_teacher = True
    _parameter_constraints: ClassVar[dict] = {
        **ZeroShotTM._parameter_constraints,
        "n_topics": Optional(Interval(int, 1)),
        "teacher": Anything(),
        "images": OneOf((True, False)),
    }

    def __init__(self, n_topics: int | None = None, *, teacher=None, images: bool = False, **params):
        super().__init__(n_topics, **params)
        self.teacher = teacher
        self.images = images

    # -- the teacher ----------------------------------------------------------------------
    def _prepare_fit(self) -> None:
        """Resolve the teacher (loaded from its directory once per fit), kept as
        ``teacher_model_``, and take its number of topics."""
        self.teacher_model_ = self._resolved_teacher()
        self.n_topics_ = self.teacher_model_.n_topics_

    def _resolved_teacher(self) -> ZeroShotTM:
        """The fitted ZeroShotTM ``teacher`` names, checked against ``n_topics``."""
        if self.teacher is None:
            raise ParameterError("zeroshot-kd needs a teacher: a fitted ZeroShotTM or the directory of one")
        model = load_model(self.teacher) if isinstance(self.teacher, (str, Path)) else self.teacher
        if type(model) is not ZeroShotTM:
            raise ParameterError("the teacher must be a ZeroShotTM ('zeroshot'), "
                                 f"not a {getattr(model, 'name', model)!r}")
        model._check_fitted()
        if self.n_topics is not None and self.n_topics != model.n_topics_:
            raise ParameterError(f"n_topics={self.n_topics}, but the teacher has {model.n_topics_} topics: "
                                 "a student learns the teacher's topics (leave n_topics unset)")
        return model

    # -- views ------------------------------------------------------------------------------
    def _fit_languages(self, corpus) -> tuple[str, ...]:
        """(student language, teacher language) for a text student; (teacher language,)
        for an image student, whose topic words are the teacher language's."""
        teacher = self.teacher_model_.language_
        if teacher not in corpus.languages:
            raise ViewError(f"the corpus has no texts in the teacher's language {teacher!r}; it has "
                            f"{list(corpus.languages)}")
        if self.images:
            return (teacher,)
        student = self.language or next((lang for lang in corpus.languages if lang != teacher), None)
        if student is None or student == teacher:
            raise ViewError(f"the student needs a language other than the teacher's {teacher!r}; the corpus has "
                            f"{list(corpus.languages)}")
        if student not in corpus.languages:
            raise ViewError(f"the corpus has no texts in {student!r}; it has {list(corpus.languages)}")
        return (student, teacher)

    def _learns_images(self, corpus) -> bool:
        return self.images

    def _student(self, names) -> str:
        return IMAGE if self.images else names[0]

    def _fit_view(self, corpus, name: str, given, encoder=None, dimension: int | None = None) -> View:
        """The teacher's language is read through the teacher's encoder, at the teacher's
        vector size: it is the view the teacher's posteriors come from."""
        teacher = self.teacher_model_
        if name == teacher.language_:
            encoder, dimension = teacher._encoder_for(name), teacher.embedding_sizes_[name]
        return super()._fit_view(corpus, name, given, encoder, dimension)

    def _encoder_for(self, view: str):
        """The student's text encoder: ``encoder``, by default the teacher's (the fitted
        teacher's own object, or for a loaded student the one its teacher was saved with)."""
        if view == IMAGE or self.encoder is not None:
            return super()._encoder_for(view)
        if hasattr(self, "teacher_model_"):
            teacher = self.teacher_model_
            return teacher._encoder_for(teacher.language_)
        spec = self.teacher_["encoder"]
        spec = spec.get(self.teacher_["language"]) if isinstance(spec, dict) else spec
        return self._cached_encoder(("teacher", spec), lambda: get_encoder(spec, progress=self.progress))

    def _record(self, views, languages, names) -> None:
        """The student keeps its own view and the language its topic words are in; the
        teacher's language was only read to distil from."""
        if self.images:
            super()._record(views, languages, (IMAGE,))
        else:
            super()._record(views, languages[:1], languages[:1])
        self.teacher_ = _teacher_summary(self.teacher_model_, self.teacher)

    def transform_view(self, language, images):
        name = super().transform_view(language, images)
        if IMAGE in self.views_ and name != IMAGE:
            raise ViewError("this student reads images (transform(..., images=True)); its topic words are in "
                            f"{self.language_!r}, but it has no inference network for texts")
        return name

    # -- fit --------------------------------------------------------------------------------
    def _fit(self, views: dict[str, View], rng: np.random.Generator, device: torch.device) -> None:
        names = tuple(views)
        student = views[self._student(names)]
        words = views[names[0]]  # the bag of words the student reconstructs
        rows, word_rows = _aligned_rows(student, words)
        prior_mean, prior_log_variance, has_teacher = self._teacher_prior(views[self.teacher_model_.language_],
                                                                          student.positions[rows])
        if not has_teacher.any():
            raise ViewError(f"no item has both the teacher's {self.teacher_model_.language_!r} text and the student's "
                            f"{student.name!r} view: there is nothing to distil")
        data = BatchSource(words.counts[word_rows], student.vectors[rows], device).with_rows(
            prior_mean, prior_log_variance, has_teacher)
        network = self._build_network(len(words.vocabulary), student.vectors.shape[1]).to(device)
        self.training_ = self._train(network, data, rng, loss=distillation_loss(network))
        self.network_ = network.cpu().eval()

    @torch.no_grad()
    def _teacher_prior(self, view: View, positions: np.ndarray):
        """The teacher's posterior (μ, log σ²) for the items at ``positions``, and which
        of them have a teacher text (the others get zeros, masked by ``has_teacher``)."""
        teacher = self.teacher_model_
        network = teacher.network_.eval()
        # view.positions ascend (corpus order): the teacher's row of each item, if it has one
        source = np.minimum(np.searchsorted(view.positions, positions), len(view.positions) - 1)
        has_teacher = view.positions[source] == positions
        mean = np.zeros((len(positions), teacher.n_topics_), dtype=np.float32)
        log_variance = np.zeros_like(mean)
        vectors = torch.as_tensor(view.vectors[source[has_teacher]], dtype=torch.float32)
        found = np.flatnonzero(has_teacher)
        for start in range(0, len(found), _TEACHER_BATCH):
            chunk = slice(start, start + _TEACHER_BATCH)
            mu, log_var = network.inference(None, vectors[chunk])
            mean[found[chunk]], log_variance[found[chunk]] = mu.numpy(), log_var.numpy()
        return mean, log_variance, has_teacher

    # -- persistence ----------------------------------------------------------------------
    def saved_params(self) -> dict:
        """The teacher is saved as its path (a fitted object as None: only the student is kept)."""
        params = super().saved_params()
        params["teacher"] = str(self.teacher) if isinstance(self.teacher, (str, Path)) else None
        return params

    def _state(self):
        state, arrays = super()._state()
        return state | {"teacher": self.teacher_}, arrays

    def _restore(self, state, arrays):
        super()._restore(state, arrays)
        self.teacher_ = state["teacher"]


def _aligned_rows(student: View, words: View) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the student view, and of the view whose words it reconstructs, of the items
    that have both with at least one vocabulary word (the same view for a text student)."""
    if student is words:
        return words.keep, words.keep
    kept = words.positions[words.keep]
    common, student_rows, kept_rows = np.intersect1d(student.positions, kept, return_indices=True)
    if common.size < 2:
        raise ViewError(f"{common.size} items have both an image and a {words.name!r} text with vocabulary words; "
                        "an image student needs at least two")
    return student_rows, words.keep[kept_rows]


def _teacher_summary(teacher: ZeroShotTM, spec) -> dict:
    """What the saved student records of its teacher."""
    return {"model": teacher.name, "path": str(spec) if isinstance(spec, (str, Path)) else None,
            "language": teacher.language_, "n_topics": teacher.n_topics_,
            "encoder": teacher.saved_params().get("encoder")}
