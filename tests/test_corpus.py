import numpy as np
import pytest

from polytopic import Corpus, CorpusError


def test_plain_texts_make_a_monolingual_corpus():
    c = Corpus(["one text", "two texts"], language="fr", ids=["a", "b"])
    assert len(c) == 2 and c.languages == ("fr",) and c.primary_language == "fr"
    assert c.texts() == ["one text", "two texts"]


def test_aligned_items_keep_missing_languages_as_gaps():
    c = Corpus([{"en": "cat", "de": "Katze"}, {"en": "dog"}, {"en": "fish", "de": "Fisch"}])
    assert c.languages == ("en", "de")
    assert c.texts("de") == ["Katze", "Fisch"]
    np.testing.assert_array_equal(c.indices("de"), [0, 2])
    np.testing.assert_array_equal(c.aligned(["en", "de"]), [0, 2])


def test_column_mapping_and_labels():
    c = Corpus({"en": ["a b", None], "it": ["x", "y"]}, labels={"section": ["games", "libs"]})
    assert c.languages == ("it", "en")
    assert c.label("section", language="en") == ["games"]
    with pytest.raises(CorpusError, match="no label field"):
        c.label("tags")


def test_blank_texts_count_as_missing():
    c = Corpus([{"en": "   ", "de": "Haus"}, {"en": "house", "de": "Haus"}])
    assert c.texts("en") == ["house"]


@pytest.mark.parametrize("bad, message", [
    ([], "empty"),
    ("just one string", "not a single string"),
    ([1, 2], "all be strings"),
    ({"en": ["a", "b"], "de": ["c"]}, "one entry per item"),
])
def test_bad_texts(bad, message):
    with pytest.raises(CorpusError, match=message):
        Corpus(bad)


def test_bad_ids_labels_and_languages():
    with pytest.raises(CorpusError, match=r"unique; repeated: \[.x.\]"):
        Corpus(["a", "b"], ids=["x", "x"])
    with pytest.raises(CorpusError, match="one entry per item"):
        Corpus(["a", "b"], labels={"section": ["x"]})
    with pytest.raises(CorpusError, match="no texts in language 'de'"):
        Corpus(["a"]).texts("de")


def test_subset_keeps_everything_aligned(aligned_corpus):
    sub = aligned_corpus.subset([5, 1])
    assert sub.ids == [aligned_corpus.ids[5], aligned_corpus.ids[1]]
    assert sub.texts("de") == [aligned_corpus.texts("de")[5], aligned_corpus.texts("de")[1]]
    assert sub.labels["section"] == [aligned_corpus.labels["section"][i] for i in (5, 1)]


def test_vocabulary_and_bag_of_words_per_language(aligned_corpus):
    """The aligned slice gives one vocabulary and one CSR bag of words per language."""
    assert set(aligned_corpus.languages) == {"en", "de", "fr", "it"}
    sizes = {}
    for language in aligned_corpus.languages:
        vocab = aligned_corpus.vocabulary(language, size=500)
        bow = aligned_corpus.bag_of_words(vocab)
        assert bow.format == "csr" and bow.shape == (400, len(vocab))
        assert bow.sum() > 0
        sizes[language] = len(vocab)
    assert aligned_corpus.vocabulary("de", size=500).language == "de"
    assert "bibliothek" in aligned_corpus.vocabulary("de", size=500)
    assert "library" in aligned_corpus.vocabulary("en", size=500)
    assert "bibliothèque" in aligned_corpus.vocabulary("fr", size=500)
    assert "the" not in aligned_corpus.vocabulary("en", size=500)
    assert all(n == 500 for n in sizes.values())


def test_tokens_are_cached_per_language(aligned_corpus):
    first = aligned_corpus.tokens("it")
    assert aligned_corpus.tokens("it") is first
    assert len(first) == 400 and all(isinstance(t, str) for t in first[0])
