import numpy as np
import pytest

from polytopic import CorpusError, ParameterError, Tokenizer, Vocabulary
from polytopic.preprocessing import iso_stopwords


def test_tokenizer_lowercases_splits_unicode_and_drops_stopwords_and_numbers():
    tok = Tokenizer("de")
    assert tok.tokenize("Die Katze schläft auf dem Sofa, 2024 Mal; l'été X11") == [
        "katze", "schläft", "sofa", "été", "x11"]  # "mal" is a German stopword


def test_english_default_keeps_topical_words_of_technical_text():
    # scikit-learn's list for English: stopwordsiso's would drop "web", "server", "test"
    tok = Tokenizer("en")
    assert tok.tokenize("The web server and a test shell for the computer") == [
        "web", "server", "test", "shell", "computer"]
    assert Tokenizer.from_dict(tok.to_dict()) == tok


def test_saved_tokenizer_keeps_the_stopwords_it_was_fitted_with():
    # an older English model stored stopwordsiso's list; loading must not swap it
    old = Tokenizer("en", stopwords=iso_stopwords("en"))
    assert "web" in old.stopwords
    assert Tokenizer.from_dict(old.to_dict()).tokenize("web server") == ["server"]


def test_tokenizer_custom_stopwords_and_min_length():
    tok = Tokenizer("en", stopwords=["foo"], min_length=3)
    assert tok.tokenize("foo bar a the") == ["bar", "the"]


def test_unknown_language_code_is_a_corpus_error():
    with pytest.raises(CorpusError, match="unknown language code 'xx'"):
        Tokenizer("xx")
    assert Tokenizer("xx", stopwords=[]).tokenize("Hello World") == ["hello", "world"]


def test_vocabulary_keeps_most_frequent_words_with_alphabetical_ties():
    texts = ["apple banana apple", "banana cherry apple", "cherry date", "date elder fig"]
    vocab = Vocabulary.fit(texts, Tokenizer("en", stopwords=[]), size=3, min_df=1)
    # term frequencies: apple 3, banana 2, cherry 2, date 2, elder 1, fig 1
    assert vocab.words == ("apple", "banana", "cherry")


def test_vocabulary_min_df_and_max_df():
    texts = ["apple apple apple banana", "banana cherry", "banana cherry"]
    vocab = Vocabulary.fit(texts, Tokenizer("en", stopwords=[]), size=10, min_df=2, max_df=0.9)
    # apple is in 1 document (< min_df); banana in all 3 (> 0.9 * 3)
    assert vocab.words == ("cherry",)


def test_vocabulary_smaller_than_requested_warns(caplog):
    vocab = Vocabulary.fit(["red green", "red blue"], Tokenizer("en", stopwords=[]), size=50, min_df=1)
    assert len(vocab) == 3
    assert "only 3 words" in caplog.text


def test_vocabulary_of_nothing_is_an_error():
    with pytest.raises(CorpusError, match="no word"):
        Vocabulary.fit(["the and of", "a the"], Tokenizer("en"), size=10)


def test_bad_vocabulary_parameters():
    with pytest.raises(ParameterError):
        Vocabulary.fit(["a b"], Tokenizer("en"), size=0)
    with pytest.raises(ParameterError):
        Vocabulary.fit(["a b"], Tokenizer("en"), min_df=0)


def test_bag_of_words_counts_and_ignores_unknown_words():
    vocab = Vocabulary(("apple", "banana"), Tokenizer("en", stopwords=[]))
    bow = vocab.bag_of_words(["apple apple kiwi", "", "banana apple"])
    assert bow.shape == (3, 2)
    np.testing.assert_array_equal(bow.toarray(), [[2, 0], [0, 0], [1, 1]])
    assert bow.dtype == np.float32


def test_vocabulary_round_trips_through_json_dict():
    vocab = Vocabulary.fit(["Katzen schlafen gern", "Katzen fressen"], Tokenizer("de"), min_df=1)
    again = Vocabulary.from_dict(vocab.to_dict())
    assert again == vocab
    assert again.bag_of_words(["Katzen"]).toarray().tolist() == vocab.bag_of_words(["Katzen"]).toarray().tolist()
