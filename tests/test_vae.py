import numpy as np
import torch
from torch.distributions import Normal, kl_divergence

from polytopic.models.training import batch_order
from polytopic.models.vae import InferenceNetwork, LogisticNormalPrior, TopicVAE


def test_prior_is_the_laplace_approximation_of_a_flat_dirichlet():
    prior = LogisticNormalPrior(4)
    # alpha = 1: mu_k = 0, sigma^2_k = 1 * (1 - 2/4) + 4/16 = 0.75 = 1 - 1/K
    np.testing.assert_allclose(prior.mean.detach(), np.zeros(4))
    np.testing.assert_allclose(prior.variance.detach(), np.full(4, 0.75))
    skewed = LogisticNormalPrior(2, alpha=np.e)
    # log alpha = 1 for both: mu = 0; sigma^2 = (1/e)(1 - 1) + 2/(4e) = 1/(2e)
    np.testing.assert_allclose(skewed.variance.detach(), np.full(2, 1 / (2 * np.e)), rtol=1e-6)


def test_kl_matches_torch_distributions():
    prior = LogisticNormalPrior(5)
    mean, log_var = torch.randn(3, 5), torch.randn(3, 5)
    expected = kl_divergence(Normal(mean, (0.5 * log_var).exp()),
                             Normal(prior.mean, prior.variance.sqrt())).sum(1)
    torch.testing.assert_close(prior.kl(mean, log_var), expected)
    assert torch.allclose(prior.kl(prior.mean.expand(2, 5), prior.variance.log().expand(2, 5)), torch.zeros(2), atol=1e-6)


def test_inference_network_inputs():
    bow, emb = torch.rand(4, 30), torch.rand(4, 16)
    for bow_size, emb_size in [(30, 0), (30, 16), (0, 16)]:
        net = InferenceNetwork(bow_size, emb_size, 5).eval()
        mean, log_var = net(bow if bow_size else None, emb if emb_size else None)
        assert mean.shape == log_var.shape == (4, 5)


def test_doc_topic_rows_sum_to_one_and_are_batch_independent():
    torch.manual_seed(0)
    vae = TopicVAE(30, 16, 5, 30, (20, 20), "softplus", 0.2, True).eval()
    bow, emb, noise = torch.rand(6, 30), torch.rand(6, 16), torch.randn(20, 5)
    full = vae.doc_topic(bow, emb, noise)
    torch.testing.assert_close(full.sum(1), torch.ones(6))
    torch.testing.assert_close(vae.doc_topic(bow[2:4], emb[2:4], noise), full[2:4])


def test_batch_order_never_leaves_a_single_row_batch():
    batches = batch_order(129, 64, np.random.default_rng(0))
    assert [len(b) for b in batches] == [64, 65]
    assert sorted(np.concatenate(batches)) == list(range(129))
