"""Encoder fine-tuning (Mueller & Dredze 2021, §3): every task on a tiny sentence-transformers
model built here (2 layers of 32 units over the packaged MiniLM's vocabulary), on the
Debian descriptions of tests/data."""

import json
import logging
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA
from safetensors.numpy import load_file

from polytopic import Corpus, CorpusError, EncoderError, ModelFileError, ParameterError
from polytopic.cli import main
from polytopic.encoders import SentenceTransformerEncoder, get_encoder
from polytopic.finetuning import RECORD_FILE, finetune, resolve_base

FAST = {"learning_rate": 1e-3, "progress": False}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A randomly initialised 2-layer BERT (hidden 32) with the MiniLM tokenizer and mean
    pooling, as a sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from polytopic.encoders.sentence import packaged_minilm_path

    root = tmp_path_factory.mktemp("tiny")
    tokenizer = AutoTokenizer.from_pretrained(str(packaged_minilm_path()))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(root / "raw")
    tokenizer.save_pretrained(root / "raw")
    modules = [Transformer(str(root / "raw"), max_seq_length=128), Pooling(32, "mean")]
    SentenceTransformer(modules=modules, device="cpu").save(str(root / "model"), create_model_card=False)
    return root / "model"


def vectors(folder, texts, **options):
    return SentenceTransformerEncoder(str(folder), device="cpu", progress=False, **options).encode(texts)


def record(folder) -> dict:
    return json.loads((folder / RECORD_FILE).read_text())


def one_nearest_accuracy(x, labels):
    """Share of texts whose nearest other text (cosine) has their label."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    return (labels[similarity.argmax(1)] == labels).mean()


def top1_retrieval(source, target):
    source = source / np.linalg.norm(source, axis=1, keepdims=True)
    target = target / np.linalg.norm(target, axis=1, keepdims=True)
    return ((source @ target.T).argmax(1) == np.arange(len(source))).mean()


@pytest.fixture(scope="module")
def sections(tiny, english_corpus, tmp_path_factory):
    """The tiny model fine-tuned for 4 epochs on classifying the Debian sections."""
    out = tmp_path_factory.mktemp("ft") / "sections"
    return finetune(english_corpus, "labels", out, base=tiny, label_field="section", epochs=4, **FAST)


@pytest.fixture(scope="module")
def cpt(tiny, english_corpus, tmp_path_factory):
    """The tiny model after continued masked-LM pre-training on 96 descriptions."""
    out = tmp_path_factory.mktemp("ft") / "cpt"
    return finetune(english_corpus.subset(np.arange(96)), "mlm", out, base=tiny, batch_size=32, epochs=3, **FAST)


# -- every task trains and writes an encoder ---------------------------------------------------
def test_document_classification_learns_the_labels(sections, tiny, english_corpus):
    texts, labels = english_corpus.texts(), np.unique(english_corpus.labels["section"], return_inverse=True)[1]
    info = record(sections)
    assert info["task"] == "labels" and info["labels"] == {"method": "field", "field": "section", "language": "en"}
    assert info["n_labels"] == 49 and info["label_names"] == sorted(set(english_corpus.labels["section"]))
    assert (info["epochs"], info["batch_size"], info["learning_rate"], info["seed"]) == (4, 16, 1e-3, 0)
    assert info["base"]["path"] == str(tiny) and info["base"]["identity"] == SentenceTransformerEncoder(
        str(tiny)).identity
    assert info["seconds"] > 0 and {"torch", "sentence-transformers", "transformers"} <= set(info["versions"])
    assert info["epoch_losses"][-1] < info["epoch_losses"][0] - 0.3  # measured 3.77 -> 3.13
    # the nearest other description shares the section: measured 0.15 before, 0.83 after (majority 0.11)
    before = one_nearest_accuracy(vectors(tiny, texts), labels)
    after = one_nearest_accuracy(vectors(sections, texts), labels)
    assert before < 0.3 and after > 0.6


def test_pairs_bring_translations_together(tiny, aligned_corpus, tmp_path):
    train, held_out = aligned_corpus.subset(np.arange(300)), aligned_corpus.subset(np.arange(300, 400))
    out = finetune(train, "pairs", tmp_path / "pairs", base=tiny, languages=["en", "it"], epochs=4, **FAST)
    info = record(out)
    assert info["pairs"] == {"en-it": 300} and info["languages"] == ["en", "it"] and info["batch_size"] == 64
    assert info["epoch_losses"][-1] < info["epoch_losses"][0] - 1  # measured 3.92 -> 1.28
    en, it = held_out.texts("en"), held_out.texts("it")
    # top-1 retrieval of the Italian translation of held-out items: measured 0.27 before, 0.44 after
    before = top1_retrieval(vectors(tiny, en), vectors(tiny, it))
    assert top1_retrieval(vectors(out, en), vectors(out, it)) > before + 0.1


def test_topic_classification_after_continued_pretraining(cpt, tiny, english_corpus, tmp_path, caplog):
    """CPT then FT (§5): the topic task starts from the masked-LM output."""
    info = record(cpt)
    assert info["task"] == "mlm" and info["languages"] == ["en"] and info["n_examples"] == 96
    assert info["mlm_probability"] == 0.15 and info["epoch_losses"][-1] < info["epoch_losses"][0]
    weights = load_file(str(cpt / "model.safetensors"))
    assert not np.array_equal(weights["embeddings.word_embeddings.weight"],
                              load_file(str(tiny / "model.safetensors"))["embeddings.word_embeddings.weight"])
    assert not any(key.startswith("cls.") for key in weights)  # the MLM head is not kept
    corpus = english_corpus.subset(np.arange(200))
    with caplog.at_level(logging.INFO, logger="polytopic"):
        out = finetune(corpus, "topics", tmp_path / "cpt-ft", base=cpt, grid=[5, 10], topic_options={"iterations": 50},
                       epochs=2, **FAST)
    info = record(out)
    identity = SentenceTransformerEncoder(str(cpt)).identity
    assert info["base"] == {"name": str(cpt), "path": str(cpt), "identity": identity}
    labels = info["labels"]
    assert labels["method"] == "lda" and labels["grid"] == [5, 10] and set(labels["scores"]) == {"5", "10"}
    assert labels["chosen"] in (5, 10) and info["n_labels"] <= labels["chosen"] + 1
    assert info["label_names"][-1] in ("no topic", f"topic {labels['chosen'] - 1}")
    assert "about" in caplog.text and "for all 26 steps" in caplog.text  # the time estimate: 13 steps × 2 epochs
    assert vectors(out, corpus.texts()[:5]).shape == (5, 32)


def test_a_fresh_masked_lm_head_is_reported(tiny, english_corpus, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="polytopic"):
        finetune(english_corpus.subset(np.arange(16)), "mlm", tmp_path / "cpt", base=tiny, **FAST)
    assert "has no masked-LM head" in caplog.text and "cls.predictions.transform.dense.weight" in caplog.text


def test_masked_positions_only_give_the_models_own_loss(tiny, english_corpus):
    """The MLM objective applies the head at the masked positions only: the model's own loss."""
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

    from polytopic.finetuning.tasks import mlm_objective

    model = AutoModelForMaskedLM.from_pretrained(str(tiny)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny))
    texts = english_corpus.texts()[:8]
    torch.manual_seed(3)
    ours = mlm_objective(model, tokenizer, texts, 128, "").loss(np.arange(8))
    torch.manual_seed(3)
    ids = tokenizer(texts, truncation=True, max_length=128)["input_ids"]
    batch = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)([{"input_ids": i} for i in ids])
    assert torch.allclose(ours, model(**batch).loss, rtol=1e-5)


def test_seed_makes_fine_tuning_repeatable(tiny, english_corpus, tmp_path):
    corpus = english_corpus.subset(np.arange(48))
    runs = [finetune(corpus, "labels", tmp_path / name, base=tiny, label_field="section", seed=seed, **FAST)
            for name, seed in (("a", 0), ("b", 0), ("c", 1))]
    weights = [load_file(str(run / "model.safetensors")) for run in runs]
    assert all(np.array_equal(weights[0][key], weights[1][key]) for key in weights[0])
    assert not all(np.array_equal(weights[0][key], weights[2][key]) for key in weights[0])
    original = load_file(str(tiny / "model.safetensors"))
    assert not np.array_equal(weights[0]["encoder.layer.0.attention.self.query.weight"],
                              original["encoder.layer.0.attention.self.query.weight"])


def test_fine_tuned_encoder_never_reads_its_bases_cached_vectors(sections, tiny, english_corpus, tmp_path):
    texts = english_corpus.texts()[:20]
    base = SentenceTransformerEncoder(str(tiny), device="cpu", cache_dir=tmp_path, progress=False)
    tuned = get_encoder(str(sections), cache_dir=tmp_path, progress=False)
    assert isinstance(tuned, SentenceTransformerEncoder) and tuned.identity != base.identity
    base_vectors = base.encode(texts)
    tuned_vectors = tuned.encode(texts)  # same texts, same cache: a miss, encoded afresh
    assert not np.allclose(base_vectors, tuned_vectors)
    np.testing.assert_array_equal(tuned_vectors, vectors(sections, texts, cache_dir=False))
    np.testing.assert_array_equal(base.cache.get([base._key(t) for t in texts])[0], base_vectors)


def test_a_prompt_of_the_base_is_trained_with_and_kept(tiny, english_corpus, tmp_path):
    """A base that encodes with a default prompt (as the fine-tuned e5 does, "passage: ")
    is fine-tuned on prompted texts, and its output encodes with the same prompt."""
    from sentence_transformers import SentenceTransformer

    prompted = tmp_path / "prompted"
    shutil.copytree(tiny, prompted)
    settings = json.loads((prompted / "config_sentence_transformers.json").read_text())
    settings |= {"prompts": {"passage": "passage: "}, "default_prompt_name": "passage"}
    (prompted / "config_sentence_transformers.json").write_text(json.dumps(settings))
    assert resolve_base(prompted).prompt == ""  # only registered encoders carry a prefix of their own
    out = finetune(english_corpus.subset(np.arange(32)), "labels", tmp_path / "out", base=prompted,
                   label_field="section", **FAST)
    assert record(out)["prompt"] == "passage: "
    model = SentenceTransformer(str(out), device="cpu")
    assert model.default_prompt_name == "passage" and model.prompts["passage"] == "passage: "


# -- the command line ------------------------------------------------------------------------------
def test_finetune_then_fit_from_the_command_line(tiny, tmp_path):
    encoder = tmp_path / "encoder"
    corpus = str(DATA / "debian-aligned-400.jsonl.gz")
    result = CliRunner().invoke(main, ["finetune", corpus, "--task", "labels", "--label-field", "section", "--base",
                                       str(tiny), "--language", "en", "--learning-rate", "1e-3", "--out",
                                       str(encoder), "-q"])
    assert result.exit_code == 0, result.output
    assert record(encoder)["epochs"] == 2 and record(encoder)["batch_size"] == 16  # the labels task's defaults
    run = tmp_path / "run"
    result = CliRunner().invoke(main, ["fit", corpus, "--model", "combined", "--encoder", str(encoder), "--topics",
                                       "5", "--epochs", "2", "--language", "en", "--out", str(run), "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads((run / "run.json").read_text())["options"]["encoder"] == str(encoder)
    assert len((run / "topics.txt").read_text().splitlines()) == 5


@pytest.mark.parametrize("args, message", [
    (["--task", "labels"], "--task labels needs the label field"),
    (["--task", "topics", "--languages", "en,it"], "is for --task pairs, not topics"),
    (["--task", "pairs", "--label-field", "section"], "is for --task labels, not pairs"),
    (["--task", "mlm", "--topics-grid", "5,x"], "give whole numbers"),
    (["--task", "nli"], "'nli' is not one of"),
])
def test_finetune_usage_errors(args, message, tmp_path):
    result = CliRunner().invoke(main, ["finetune", str(DATA / "debian-aligned-400.jsonl.gz"), "--out",
                                       str(tmp_path / "x"), *args])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (tmp_path / "x").exists()


def test_encoder_folders_that_are_not_sentence_transformers_models(tiny, tmp_path):
    corpus = str(DATA / "debian-aligned-400.jsonl.gz")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a model")
    for command in (["finetune", corpus, "--task", "mlm", "--base", str(junk)],
                    ["fit", corpus, "--model", "combined", "--topics", "3", "--encoder", str(junk)]):
        result = CliRunner().invoke(main, [*command, "--out", str(tmp_path / "x"), "-q"])
        assert result.exit_code == 1 and "not a sentence-transformers model folder: it has no modules.json" in \
            result.stderr, result.output
        assert not (tmp_path / "x").exists()


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("remove, message", [
    ("modules.json", "has no modules.json"),
    ("config.json", "its transformer module has no config.json"),
    ("model.safetensors", "its transformer module has no weights"),
])
def test_incomplete_bases_are_named(remove, message, tiny, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    (broken / remove).unlink()
    with pytest.raises(EncoderError, match=message):
        resolve_base(broken)


@pytest.mark.parametrize("base, message", [
    ("use-multilingual", "'use-multilingual' is not a sentence-transformers model and cannot be fine-tuned"),
    ("static-minilm", "'static-minilm' is not a sentence-transformers model"),
    ("no/such/model", "'no/such/model' is neither a directory nor an encoder name"),
])
def test_bases_that_cannot_be_fine_tuned(base, message):
    with pytest.raises(EncoderError, match=message):
        resolve_base(base)


def test_labels_refusals(tiny, english_corpus, tmp_path):
    texts = english_corpus.texts()[:40]
    one = Corpus(texts, labels={"section": ["devel"] * 40})
    with pytest.raises(ParameterError, match="every text has the label 'devel': classification needs two classes"):
        finetune(one, "labels", tmp_path / "x", base=tiny, label_field="section", **FAST)
    sections = list(english_corpus.labels["section"][:40])
    sections[3], sections[7] = None, "  "
    gaps = Corpus(texts, ids=english_corpus.ids[:40], labels={"section": sections})
    ids = f"{english_corpus.ids[3]}, {english_corpus.ids[7]}"
    with pytest.raises(ParameterError, match=f"'section' is missing from 2 of 40 'en' documents \\(ids {ids}\\)"):
        finetune(gaps, "labels", tmp_path / "x", base=tiny, label_field="section", **FAST)
    with pytest.raises(CorpusError, match="no label field 'topic'"):
        finetune(one, "labels", tmp_path / "x", base=tiny, label_field="topic", **FAST)
    with pytest.raises(ParameterError, match="the labels task needs label_field"):
        finetune(one, "labels", tmp_path / "x", base=tiny, **FAST)
    assert list(tmp_path.iterdir()) == []


def test_pairs_lacking_a_side_are_skipped_and_no_pair_is_refused(tiny, aligned_corpus, tmp_path, caplog):
    columns = {lang: aligned_corpus.texts(lang)[:40] for lang in ("en", "it", "de")}
    columns["it"] = columns["it"][:30] + [None] * 10
    columns["de"] = [None] * 40
    corpus = Corpus(columns)
    with caplog.at_level(logging.WARNING, logger="polytopic"):
        out = finetune(corpus, "pairs", tmp_path / "pairs", base=tiny, languages=["en", "it"], **FAST)
    assert "10 items have a text in only one of en and it: skipped" in caplog.text
    assert record(out)["pairs"] == {"en-it": 30} and record(out)["n_examples"] == 30
    with pytest.raises(CorpusError, match="no item has texts in two of \\['en', 'de'\\]"):
        finetune(Corpus({"en": columns["en"][:20] + [None] * 20, "de": [None] * 20 + columns["en"][20:]}), "pairs",
                 tmp_path / "x", base=tiny, languages=["en", "de"], **FAST)
    with pytest.raises(ParameterError, match="two or more distinct languages"):
        finetune(corpus, "pairs", tmp_path / "x", base=tiny, languages=["en"], **FAST)
    with pytest.raises(CorpusError, match="no texts in language 'fr'"):
        finetune(corpus, "pairs", tmp_path / "x", base=tiny, languages=["en", "fr"], **FAST)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("options, message", [
    ({"task": "nli"}, "unknown fine-tuning task 'nli'"),
    ({"task": "mlm", "label_field": "section"}, "label_field is for the task\\(s\\) labels, not 'mlm'"),
    ({"task": "topics", "languages": ["en", "it"]}, "languages is for the task\\(s\\) pairs"),
    ({"task": "mlm", "epochs": 0}, "epochs must be a positive integer"),
    ({"task": "mlm", "learning_rate": -1.0}, "learning_rate must be a positive number"),
])
def test_options_are_checked_before_any_work(options, message, tmp_path):
    with pytest.raises(ParameterError, match=message):
        finetune(["some text", "more text"], out=tmp_path / "x", base="no/such/model", **options)


def test_an_existing_folder_is_replaced_only_when_asked(sections, tiny, english_corpus, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(sections, out)
    corpus = english_corpus.subset(np.arange(16))
    with pytest.raises(ModelFileError, match="already exists"):
        finetune(corpus, "labels", out, base=tiny, label_field="section", **FAST)
    finetune(corpus, "labels", out, base=tiny, label_field="section", overwrite=True, **FAST)
    assert record(out)["n_examples"] == 16 and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_interrupted_fine_tuning_leaves_nothing(tiny, english_corpus, tmp_path, monkeypatch):
    import polytopic.finetuning.loop as loop

    real_step, calls = loop._step, []

    def interrupted(objective, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_step(objective, rows)

    monkeypatch.setattr(loop, "_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        finetune(english_corpus.subset(np.arange(64)), "labels", tmp_path / "out", base=tiny, label_field="section",
                 **FAST)
    assert calls == [16, 16] and list(tmp_path.iterdir()) == []
