import numpy as np
import pytest

pytest.importorskip("corextopic")
pytest.importorskip("six")

from polytopic.models import CorEx  # noqa: E402

#: Words of one group appear together; the groups are independent of each other.
GROUPS = [["apple", "banana", "cherry", "grape"], ["linux", "kernel", "driver", "boot"]]


def test_planted_factors_and_transform(planted, tmp_path):
    corpus = planted(GROUPS, 200, mode="groups").corpus
    model = CorEx(n_topics=2, min_df=1, progress=False).fit(corpus)
    assert sorted(sorted(t) for t in model.topics(top_n=4)) == [
        ["apple", "banana", "cherry", "grape"], ["boot", "driver", "kernel", "linux"]]
    doc_topic = model.transform(["apple banana cherry grape", "linux kernel driver boot"])
    np.testing.assert_allclose(doc_topic.sum(1), 1)
    assert doc_topic.argmax(1)[0] != doc_topic.argmax(1)[1]
    loaded = CorEx.load(model.save(tmp_path / "corex"))
    np.testing.assert_array_equal(loaded.transform(corpus), model.transform(corpus))
    assert loaded.topics() == model.topics()


def test_fit_leaves_numpy_global_state_alone(planted):
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    CorEx(n_topics=2, min_df=1, iterations=5, progress=False).fit(planted(GROUPS, 40, mode="groups").corpus)
    assert np.random.random() == expected
