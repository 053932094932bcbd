import numpy as np
import pytest

from polytopic.encoders.tokens import TokenEncoder
from polytopic.models import ETM

#: Two vocabularies that never mix: every planted document draws 12 words from one of them.
TOPICS = [["apple", "banana", "cherry", "grape", "melon"], ["linux", "kernel", "driver", "module", "boot"]]


@pytest.fixture(scope="module")
def etm(planted):
    return ETM(n_topics=2, min_df=1, hidden_sizes=(32,), epochs=60, batch_size=50,
               progress=False).fit(planted(TOPICS, 200, doc_length=12).corpus)


def test_planted_topics_are_recovered(etm):
    found = sorted(sorted(t) for t in etm.topics(top_n=5))
    assert found == [["apple", "banana", "cherry", "grape", "melon"], ["boot", "driver", "kernel", "linux", "module"]]
    doc_topic = etm.transform(["apple melon grape", "kernel boot driver"])
    assert doc_topic.argmax(1)[0] != doc_topic.argmax(1)[1]


def test_word_embeddings_are_the_encoders_rescaled(etm):
    vocabulary = etm.vocabularies_["en"].words
    raw = TokenEncoder(progress=False).static_word_vectors(vocabulary)
    rho = etm.network_.decoder.word_vectors.numpy()
    assert rho.std() == pytest.approx(1, rel=1e-4)
    np.testing.assert_allclose(rho, raw / raw.std(), rtol=1e-5)  # one factor for all entries
    np.testing.assert_allclose(etm.topic_word().sum(1), 1, atol=1e-6)


def test_save_load_round_trip(etm, planted, tmp_path):
    loaded = ETM.load(etm.save(tmp_path / "etm"))
    assert loaded.topics() == etm.topics()
    corpus = planted(TOPICS, 20, doc_length=12, seed=1).corpus
    np.testing.assert_array_equal(loaded.transform(corpus), etm.transform(corpus))
    # ρ is a buffer: saved and restored, never handed to the optimiser
    assert "decoder.word_vectors" in dict(loaded.network_.named_buffers())
    assert "decoder.word_vectors" not in dict(loaded.network_.named_parameters())
    np.testing.assert_array_equal(loaded.network_.decoder.word_vectors.numpy(),
                                  etm.network_.decoder.word_vectors.numpy())
