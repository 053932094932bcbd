"""TopClus's networks (Meng et al. 2022, §3): pure ``nn.Module``s, no training logic.

Notation as in the paper: h ∈ R^r contextual embeddings (H), z ∈ S^{r'−1} latent vectors
(Z), t_k topic centres on the same sphere, κ the shared vMF concentration.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last), as in DEC's autoencoder."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def segment_softmax(scores: torch.Tensor, segment: torch.Tensor, n_segments: int) -> torch.Tensor:
    """Softmax of ``scores`` (n,) within each segment (``segment`` (n,) in [0, n_segments))."""
    peak = torch.full((n_segments,), -torch.inf, dtype=scores.dtype, device=scores.device)
    peak = peak.scatter_reduce(0, segment, scores, reduce="amax", include_self=True)
    weights = (scores - peak[segment]).exp()
    totals = torch.zeros(n_segments, dtype=scores.dtype, device=scores.device).index_add(0, segment, weights)
    return weights / totals[segment]


class TopClusNetwork(nn.Module):
    """Attention pooling (§3.1), the autoencoder f: H → Z, g: Z → H, and K topic centres (§3.2).

    Parameters
    ----------
    input_size : int
        r, the encoder's hidden size.
    n_topics : int
        K.
    latent_size : int
        r' (Appendix C: 100).
    encoder_sizes, decoder_sizes : sequence of int
        Hidden widths of f and g (Appendix C: 500-500-1000 and 1000-500-500).
    kappa : float
        vMF concentration κ (Appendix C: 10).
    """

    def __init__(self, input_size: int, n_topics: int, latent_size: int = 100,
                 encoder_sizes: Sequence[int] = (500, 500, 1000), decoder_sizes: Sequence[int] = (1000, 500, 500),
                 kappa: float = 10.0):
        super().__init__()
        self.kappa = kappa
        self.attention = nn.Linear(input_size, input_size)  # W, b of §3.1
        self.attention_vector = nn.Parameter(torch.randn(input_size) / input_size**0.5)  # v of §3.1
        self.f = _mlp([input_size, *encoder_sizes, latent_size])
        self.g = _mlp([latent_size, *decoder_sizes, input_size])
        self.topics = nn.Parameter(F.normalize(torch.randn(n_topics, latent_size), dim=1))

    def latent(self, h: torch.Tensor) -> torch.Tensor:
        """Z = f(h) on the unit sphere, shape (n, r')."""
        return F.normalize(self.f(h), dim=1)

    def log_posterior(self, z: torch.Tensor) -> torch.Tensor:
        """Log p(t_k | z) = log softmax_k(κ cos(z, t_k)) (§3.3, uniform topic prior), shape (n, K)."""
        return F.log_softmax(self.kappa * z @ F.normalize(self.topics, dim=1).T, dim=1)

    def pool(self, h: torch.Tensor, document: torch.Tensor, n_documents: int) -> torch.Tensor:
        """h^(d) = Σ_i α_i h_i with α = softmax_i(tanh(W h_i + b)ᵀ v) per document (§3.1),
        shape (n_documents, r); ``document`` (n,) gives each token's document."""
        scores = torch.tanh(self.attention(h)) @ self.attention_vector
        alpha = segment_softmax(scores, document, n_documents)
        return torch.zeros(n_documents, h.shape[1], dtype=h.dtype, device=h.device).index_add(
            0, document, alpha[:, None] * h)

    def preservation_loss(self, h: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """L_pre (Eq. 6) as the authors compute it: the mean over tokens and dimensions of
        (h_i − g(f(h_i)))² (trainer.py: ``F.mse_loss``); ``z`` = f(h) when known."""
        return F.mse_loss(self.g(self.latent(h) if z is None else z), h)

    def losses(self, h: torch.Tensor, document: torch.Tensor, generic: torch.Tensor, clustered: torch.Tensor,
               target: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L_clus, L_rec, L_pre) of one batch of documents (Algorithm 1's M-step), each a
        mean, as the authors' trainer.py takes them (the paper's Eqs. 4–6 write sums; its
        λ = 0.1 is the weight that goes with the means): L_clus is the cross-entropy of
        Eq. 4 averaged over the clustered tokens, L_rec and L_pre are squared errors
        averaged over documents (tokens) and dimensions.

        Parameters
        ----------
        h : (n_tokens, r) token embeddings of the batch's documents, all pooled (§3.1)
        document : (n_tokens,) each token's document, in [0, n_documents)
        generic : (n_documents, r) h̄^(d), the documents' generic embeddings (Eq. 5)
        clustered : (n_tokens,) bool, the tokens L_clus and L_pre read (nouns, verbs and
            adjectives in the authors' code)
        target : (n_clustered, K), optional
            The E-step target q (Eq. 3); None computes it from this batch's posteriors,
            as the authors' trainer does at every step.
        """
        z_doc = self.latent(self.pool(h, document, generic.shape[0]))
        topic_embeddings = self.g(F.normalize(self.topics, dim=1))  # g(t_k), shape (K, r)
        rebuilt = self.log_posterior(z_doc).exp() @ topic_embeddings
        reconstruction = F.mse_loss(rebuilt, generic)  # Eq. 5
        words = h[clustered]
        if len(words) == 0:
            zero = reconstruction.new_zeros(())
            return zero, reconstruction, zero
        z = self.latent(words)
        log_p = self.log_posterior(z)
        if target is None:
            target = sharpened_target(log_p.detach().exp())
        clustering = -(target * log_p).sum(1).mean()  # Eq. 4
        return clustering, reconstruction, self.preservation_loss(words, z)


def sharpened_target(posterior: torch.Tensor) -> torch.Tensor:
    """E-step target q(t_k | z_i) = (p_ik² / s_k) / Σ_k' (p_ik'² / s_k') with
    s_k = Σ_i p_ik over the tokens given (Eq. 3, DEC's target; the paper sums over all N
    tokens of the corpus), shape (n_tokens, K)."""
    weight = posterior**2 / posterior.sum(0)
    return weight / weight.sum(1, keepdim=True)
