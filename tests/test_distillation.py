"""ZeroshotTM-KD: a student view distilled from a ZeroShotTM teacher (Pivovarova & Zosa
2021, the baseline of Zosa & Pivovarova 2022)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from polytopic import Corpus, load_model
from polytopic.datasets import read_jsonl
from polytopic.errors import ParameterError, ViewError
from polytopic.metrics.alignment import alignment
from polytopic.models.ctm import ZeroShotTM
from polytopic.models.distillation import ZeroShotKD
from polytopic.models.lda import LDA

DATA = Path(__file__).parent / "data"
FAST = {"epochs": 60, "progress": False}  # 30 leaves the teacher near its prior on 200 texts


@pytest.fixture(scope="module")
def bilingual(use_vectors):
    """200 aligned en/de descriptions with their USE vectors, and an English teacher."""
    corpus, en, de = use_vectors
    teacher = ZeroShotTM(n_topics=8, language="en", **FAST).fit(corpus, embeddings=en)
    return corpus, en, de, teacher


@pytest.fixture(scope="module")
def student(bilingual):
    corpus, en, de, teacher = bilingual
    return ZeroShotKD(teacher=teacher, language="de", **FAST).fit(corpus, embeddings={"de": de, "en": en})


def test_student_learns_its_language_with_the_teachers_topics(bilingual, student):
    corpus, en, de, teacher = bilingual
    assert student.n_topics is None and student.n_topics_ == teacher.n_topics_ == 8  # the parameter stays unset
    assert (student.languages_, student.views_) == (("de",), ("de",))
    assert set(student.vocabularies_) == {"de"}
    theta = student.transform(corpus, language="de", embeddings=de)
    assert theta.shape == (200, 8)
    np.testing.assert_allclose(theta.sum(1), 1, atol=1e-5)
    assert student.teacher_ == {"model": "zeroshot", "path": None, "language": "en", "n_topics": 8, "encoder": None}


def test_distillation_aligns_the_student_with_the_teacher(bilingual, student):
    """The student's German θ agrees with the teacher's English θ of the same items far
    more than a German ZeroShotTM trained alone (whose topics have no reason to be the
    teacher's) and than the shuffled pairs."""
    corpus, en, de, teacher = bilingual
    teacher_theta = teacher.transform(corpus, language="en", embeddings=en)
    distilled = alignment(student.transform(corpus, language="de", embeddings=de), teacher_theta)
    # seed 1: with the teacher's seed, the same initial weights and an aligned encoder would
    # already tie the two models' topics
    alone = ZeroShotTM(n_topics=8, language="de", seed=1, **FAST).fit(corpus, embeddings=de)
    independent = alignment(alone.transform(corpus, language="de", embeddings=de), teacher_theta)
    print(distilled, independent)
    assert distilled.match > independent.match + 0.15  # measured: 0.40 against 0.15
    assert distilled.match > distilled.match_random + 0.1
    assert distilled.kl < independent.kl / 2


def test_items_without_a_teacher_text_keep_the_prior(bilingual):
    """German texts whose English is missing are trained on with the learned prior."""
    corpus, en, de, teacher = bilingual
    texts = [{"en": t_en, "de": t_de} if i % 3 else {"de": t_de}
             for i, (t_en, t_de) in enumerate(zip(corpus.texts("en"), corpus.texts("de")))]
    partial = Corpus(texts)
    kept = np.array([i for i in range(200) if i % 3])
    model = ZeroShotKD(teacher=teacher, **FAST).fit(partial, embeddings={"de": de, "en": en[kept]})
    assert model.languages_ == ("de",)  # the first language that is not the teacher's
    assert model.transform(partial, language="de", embeddings=de).shape == (200, 8)


def test_teacher_from_a_saved_run_and_student_without_it(bilingual, student, tmp_path):
    corpus, en, de, teacher = bilingual
    teacher_dir = teacher.save(tmp_path / "teacher")
    from_path = ZeroShotKD(teacher=str(teacher_dir), language="de", **FAST).fit(
        corpus, embeddings={"de": de, "en": en})
    np.testing.assert_allclose(from_path.transform(corpus, language="de", embeddings=de),
                               student.transform(corpus, language="de", embeddings=de), atol=1e-6)
    saved = from_path.save(tmp_path / "student")
    shutil.rmtree(teacher_dir)  # the saved student needs no teacher
    loaded = load_model(saved)
    assert type(loaded) is ZeroShotKD and loaded.teacher_["path"] == str(teacher_dir)
    np.testing.assert_array_equal(loaded.transform(corpus, language="de", embeddings=de),
                                  from_path.transform(corpus, language="de", embeddings=de))


def test_refused_teachers_and_views(bilingual):
    corpus, en, de, teacher = bilingual
    embeddings = {"de": de, "en": en}
    with pytest.raises(ParameterError, match="needs a teacher"):
        ZeroShotKD(**FAST).fit(corpus, embeddings=embeddings)
    lda = LDA(n_topics=8, iterations=5, progress=False).fit(corpus)
    with pytest.raises(ParameterError, match="must be a ZeroShotTM"):
        ZeroShotKD(teacher=lda, **FAST).fit(corpus, embeddings=embeddings)
    with pytest.raises(ParameterError, match="teacher has 8 topics"):
        ZeroShotKD(n_topics=5, teacher=teacher, **FAST).fit(corpus, embeddings=embeddings)
    with pytest.raises(ViewError, match="other than the teacher's 'en'"):
        ZeroShotKD(teacher=teacher, language="en", **FAST).fit(corpus, embeddings=embeddings)
    german_only = Corpus(corpus.texts("de"), language="de")
    with pytest.raises(ViewError, match="teacher's language 'en'"):
        ZeroShotKD(teacher=teacher, **FAST).fit(german_only, embeddings=de)
    with pytest.raises(ViewError, match="images"):
        ZeroShotKD(teacher=teacher, language="de", **FAST).fit(corpus, embeddings=embeddings).transform(
            corpus, images=True)
    # English and German texts, never of the same item: nothing to distil
    apart = Corpus([{"en": t} for t in corpus.texts("en")[:20]] + [{"de": t} for t in corpus.texts("de")[20:40]])
    with pytest.raises(ViewError, match="nothing to distil"):
        ZeroShotKD(teacher=teacher, min_df=1, **FAST).fit(apart, embeddings={"en": en[:20], "de": de[20:40]})
    with pytest.raises(Exception, match="dimension"):
        ZeroShotKD(teacher=teacher, **FAST).fit(corpus, embeddings={"de": de, "en": en[:, :10]})


def test_image_student_reconstructs_the_teachers_language():
    """Icons distilled from an English teacher: image topics in English words."""
    apps = read_jsonl(DATA / "apps" / "apps-60.jsonl", text_field="debian", image_field="icon")
    vectors = np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)
    teacher = ZeroShotTM(n_topics=4, language="en", min_df=1, **FAST).fit(apps, embeddings=vectors)
    student = ZeroShotKD(teacher=teacher, images=True, min_df=1, **FAST).fit(apps, embeddings={"en": vectors})
    assert (student.languages_, student.views_) == (("en",), ("image",))
    theta = student.transform(apps, images=True)  # icons through the offline image features
    assert theta.shape == (60, 4) and student.embedding_sizes_["image"] > 100
    assert len(student.topics(top_n=5)) == 4
    with pytest.raises(ViewError, match="reads images"):
        student.transform(apps, language="en", embeddings=vectors)
