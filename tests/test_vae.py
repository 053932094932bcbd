import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.distributions import Normal, kl_divergence

from polytopic.models.bow import BagOfWordsBatch
from polytopic.models.training import batch_order
from polytopic.models.vae import InferenceNetwork, InputLayer, LogisticNormalPrior, TopicVAE


def _counts(n_docs=6, vocabulary=30, seed=0) -> sp.csr_matrix:
    """Random word counts with an empty document (row 2), as after preprocessing."""
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.3, size=(n_docs, vocabulary)).astype(np.float32)
    dense[2] = 0
    return sp.csr_matrix(dense)


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
    at_prior = prior.kl(prior.mean.expand(2, 5), prior.variance.log().expand(2, 5))
    assert torch.allclose(at_prior, torch.zeros(2), atol=1e-6)


def test_inference_network_inputs():
    bow, emb = BagOfWordsBatch.from_csr(_counts(4)), torch.rand(4, 16)
    for bow_size, emb_size, adapt in [(30, 0, False), (30, 16, False), (30, 16, True), (0, 16, False)]:
        net = InferenceNetwork(bow_size, emb_size, 5, adapt_embedding=adapt).eval()
        mean, log_var = net(bow if bow_size else None, emb if emb_size else None)
        assert mean.shape == log_var.shape == (4, 5)
    with pytest.raises(ValueError, match="adapt_embedding"):
        InferenceNetwork(0, 16, 5, adapt_embedding=True)


def test_sparse_products_equal_their_dense_forms_with_the_same_gradients():
    counts = _counts()
    dense = torch.from_numpy(counts.toarray())
    bow = BagOfWordsBatch.from_csr(counts)
    weight = torch.randn(30, 7, dtype=torch.float32, requires_grad=True)
    log_word = torch.log_softmax(torch.randn(6, 30), dim=1).requires_grad_()

    sparse_out = bow.project(weight).sum() + bow.log_likelihood(log_word).sum()
    sparse_grads = torch.autograd.grad(sparse_out, (weight, log_word))
    dense_out = (dense @ weight).sum() + (dense * log_word).sum()
    dense_grads = torch.autograd.grad(dense_out, (weight, log_word))

    torch.testing.assert_close(bow.project(weight), dense @ weight)
    torch.testing.assert_close(bow.log_likelihood(log_word), (dense * log_word).sum(1))
    for got, expected in zip(sparse_grads, dense_grads):
        torch.testing.assert_close(got, expected)
    assert bow.log_likelihood(log_word)[2] == 0  # the empty document


def test_normalised_counts_sum_to_one_and_empty_documents_stay_empty():
    bow = BagOfWordsBatch.from_csr(_counts())
    totals = bow.normalised().totals()
    torch.testing.assert_close(totals[[0, 1, 3, 4, 5]], torch.ones(5))
    assert totals[2] == 0
    torch.testing.assert_close(bow.totals(), torch.from_numpy(_counts().sum(1).A1))


def test_adapt_layer_is_ctm_concatenation_and_composes_into_the_direct_layer():
    """InputLayer(adapt) computes W [bow; A e + a] + b as the reference CombinedTM does;
    the direct layer with weight W_e A and bias b + W_e a computes the same function."""
    torch.manual_seed(0)
    counts, emb = _counts(), torch.randn(6, 16)
    bow, dense = BagOfWordsBatch.from_csr(counts), torch.from_numpy(counts.toarray())
    adapt = InputLayer(30, 16, 8, adapt_embedding=True)
    with torch.no_grad():
        concatenated = torch.cat([dense, adapt.adapt(emb)], dim=1)
        reference = concatenated @ torch.cat([adapt.bow_weight, adapt.embedding_weight.T]) + adapt.bias
        torch.testing.assert_close(adapt(bow, emb), reference)

        direct = InputLayer(30, 16, 8)
        direct.bow_weight.copy_(adapt.bow_weight)
        direct.embedding_weight.copy_(adapt.embedding_weight @ adapt.adapt.weight)
        direct.bias.copy_(adapt.bias + adapt.embedding_weight @ adapt.adapt.bias)
        torch.testing.assert_close(direct(bow, emb), adapt(bow, emb), rtol=1e-5, atol=1e-5)


def test_input_layer_starts_like_one_linear_over_the_concatenated_input():
    torch.manual_seed(0)
    layer = InputLayer(300, 100, 50)
    bound = 400 ** -0.5
    for tensor in (layer.bow_weight, layer.embedding_weight, layer.bias):
        assert tensor.abs().max() <= bound
        assert tensor.abs().max() > 0.9 * bound


def test_doc_topic_rows_sum_to_one_and_are_batch_independent():
    torch.manual_seed(0)
    vae = TopicVAE(30, 16, 5, 30, (20, 20), "softplus", 0.2, True).eval()
    counts, emb, noise = _counts(), torch.rand(6, 16), torch.randn(20, 5)
    full = vae.doc_topic(BagOfWordsBatch.from_csr(counts), emb, noise)
    torch.testing.assert_close(full.sum(1), torch.ones(6))
    torch.testing.assert_close(vae.doc_topic(BagOfWordsBatch.from_csr(counts[2:4]), emb[2:4], noise), full[2:4])


def test_loss_is_kl_minus_the_log_likelihood_of_the_counts():
    torch.manual_seed(0)
    vae = TopicVAE(30, 0, 5, 30, (20,), "softplus", 0.0, True).eval()
    counts = _counts()
    bow = BagOfWordsBatch.from_csr(counts)
    torch.manual_seed(1)
    loss = vae.loss(bow, None)
    torch.manual_seed(1)  # the same reparameterisation noise
    mean, log_var = vae.inference(bow, None)
    theta = torch.softmax(mean + torch.randn_like(mean) * (0.5 * log_var).exp(), dim=1)
    expected = vae.prior.kl(mean, log_var) - (torch.from_numpy(counts.toarray()) * vae.decoder(theta)).sum(1)
    torch.testing.assert_close(loss, expected)


def test_batch_order_never_leaves_a_single_row_batch():
    batches = batch_order(129, 64, np.random.default_rng(0))
    assert [len(b) for b in batches] == [64, 65]
    assert sorted(np.concatenate(batches)) == list(range(129))


def test_an_empty_batch_gives_empty_results():
    bow = BagOfWordsBatch.from_csr(sp.csr_matrix((0, 30), dtype=np.float32))
    assert bow.totals().shape == (0,) and bow.log_likelihood(torch.zeros(0, 30)).shape == (0,)
    assert bow.project(torch.ones(30, 4)).shape == (0, 4)
