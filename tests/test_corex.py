import numpy as np
import pytest

pytest.importorskip("corextopic")
pytest.importorskip("six")

from polytopic import Corpus  # noqa: E402
from polytopic.models import CorEx  # noqa: E402


def planted_corpus(n_docs=200, seed=0):
    """Words of one group appear together; the groups are independent of each other."""
    rng = np.random.default_rng(seed)
    groups = [["apple", "banana", "cherry", "grape"], ["linux", "kernel", "driver", "boot"]]
    texts = []
    for _ in range(n_docs):
        words = [w for g in groups if rng.random() < 0.5 for w in g if rng.random() < 0.9]
        texts.append(" ".join(words + ["filler", "text"]))
    return Corpus(texts)


def test_planted_factors_and_transform(tmp_path):
    corpus = planted_corpus()
    model = CorEx(n_topics=2, min_df=1, progress=False).fit(corpus)
    assert sorted(sorted(t) for t in model.topics(top_n=4)) == [
        ["apple", "banana", "cherry", "grape"], ["boot", "driver", "kernel", "linux"]]
    doc_topic = model.transform(["apple banana cherry grape", "linux kernel driver boot"])
    np.testing.assert_allclose(doc_topic.sum(1), 1)
    assert doc_topic.argmax(1)[0] != doc_topic.argmax(1)[1]
    loaded = CorEx.load(model.save(tmp_path / "corex"))
    np.testing.assert_array_equal(loaded.transform(corpus), model.transform(corpus))
    assert loaded.topics() == model.topics()


def test_fit_leaves_numpy_global_state_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    CorEx(n_topics=2, min_df=1, iterations=5, progress=False).fit(planted_corpus(40))
    assert np.random.random() == expected
