"""Image encoders: the classical features on 60 real Debian icons, and CLIP-family towers on
tiny randomly initialised models the tests write themselves (no download)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from polytopic.encoders import get_encoder
from polytopic.encoders.image import (
    FEATURE_RECIPE,
    ImageFeatureEncoder,
    check_images,
    colour_histogram,
    gradient_histograms,
    grey_thumbnail,
    load_image,
    srgb_to_lab,
)
from polytopic.errors import EncoderError

APPS = Path(__file__).parent / "data" / "apps"


@pytest.fixture(scope="module")
def apps():
    with open(APPS / "apps-60.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def icons(apps):
    return [str(APPS / app["icon"]) for app in apps]


@pytest.fixture(scope="module")
def icon_vectors(icons):
    return ImageFeatureEncoder(cache_dir=False, progress=False).encode(icons)


def _save(array, path, mode=None, **info):
    """Write ``array`` as an image (mode from its shape, or converted to ``mode``)."""
    image = Image.fromarray(np.asarray(array, dtype=np.uint8))
    (image.convert(mode) if mode else image).save(path, **info)
    return str(path)


# --------------------------------------------------------------------------- the slice


def test_slice_has_real_apps_with_transparent_icons(apps, icons):
    assert len(apps) == 60 and all({"id", "debian", "icon", "categories"} <= set(a) for a in apps)
    modes = {Image.open(p).mode for p in icons}
    assert {"RGBA", "P", "LA"} <= modes
    assert all(Image.open(p).size == (64, 64) for p in icons)


# --------------------------------------------------------------------------- feature blocks


def test_lab_of_reference_colours():
    # CIE 15 reference values: white (100, 0, 0); sRGB red (53.24, 80.09, 67.20).
    lab = srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]]))
    np.testing.assert_allclose(lab, [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20]], atol=0.05)


def test_colour_histogram_counts_pixel_fractions():
    image = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    image[0, :, :1] = 255  # a quarter white, the rest black
    hist = colour_histogram(srgb_to_lab(image), (2, 1, 1))
    np.testing.assert_allclose(hist, [[0.75, 0.25]])


def test_gradient_histogram_of_edges():
    # A vertical edge has gradient angle 0°, midway between the centres of bin 8 (170°)
    # and bin 0 (10°): half each, so 1/√2 after normalising. A horizontal edge: 90°,
    # the centre of bin 4.
    vertical = np.zeros((1, 8, 8))
    vertical[0, :, 4:] = 1.0
    (hist,) = gradient_histograms(vertical, [1], 9)
    expected = np.zeros(9)
    expected[[0, 8]] = 1 / np.sqrt(2)
    np.testing.assert_allclose(hist[0], expected, atol=1e-12)
    (hist,) = gradient_histograms(vertical.transpose(0, 2, 1), [1], 9)
    np.testing.assert_allclose(hist[0], np.eye(9)[4], atol=1e-12)


def test_grey_thumbnail_is_centred_block_means():
    grey = np.zeros((1, 4, 4))
    grey[0, :2, :2] = 1.0  # top-left quarter bright: block means (1, 0, 0, 0), mean 0.25
    np.testing.assert_allclose(grey_thumbnail(grey, 2), [[0.75, -0.25, -0.25, -0.25]])


# --------------------------------------------------------------------------- ImageFeatureEncoder


def test_features_are_unit_vectors_and_deterministic(icons, icon_vectors):
    encoder = ImageFeatureEncoder(cache_dir=False, progress=False)
    assert icon_vectors.shape == (60, encoder.dimension) and icon_vectors.dtype == np.float32
    assert np.isfinite(icon_vectors).all()
    np.testing.assert_allclose(np.linalg.norm(icon_vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(encoder.encode(icons[::-1])[::-1], icon_vectors)


def test_registry_gives_features_as_default_image_encoder():
    assert isinstance(get_encoder(modality="image", cache_dir=False), ImageFeatureEncoder)
    with pytest.raises(EncoderError, match="encodes images"):
        get_encoder("image-features")


def test_identity_names_recipe_and_parameters():
    default = ImageFeatureEncoder(cache_dir=False)
    other = ImageFeatureEncoder(colour_bins=(3, 3, 3), cells=(4,), cache_dir=False)
    assert FEATURE_RECIPE in default.identity and default.identity != other.identity
    assert other.dimension == 27 + 16 * 9 + 64
    with pytest.raises(EncoderError, match="multiple"):
        ImageFeatureEncoder(cells=(5,))
    with pytest.raises(EncoderError, match="colour_bins"):
        ImageFeatureEncoder(colour_bins=(4, 4))


def test_transparent_pixels_are_composited_on_white(tmp_path, icons):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 4))
    noise[..., 3] = 0
    white = _save(np.full((64, 64, 3), 255), tmp_path / "white.png")
    clear_rgba = _save(noise, tmp_path / "clear.png")
    clear_la = _save(noise[..., [0, 3]], tmp_path / "clear-la.png")
    clear_p = _save(np.zeros((64, 64)), tmp_path / "clear-p.png", "P", transparency=0)
    assert [Image.open(p).mode for p in (clear_rgba, clear_la, clear_p)] == ["RGBA", "LA", "P"]
    vectors = ImageFeatureEncoder(cache_dir=False, progress=False).encode([white, clear_rgba, clear_la, clear_p])
    for row in vectors[1:]:
        np.testing.assert_array_equal(row, vectors[0])
    # A real icon: where it is fully transparent, the image the features see is white.
    icon = next(p for p in icons if Image.open(p).mode == "RGBA")
    alpha = np.asarray(Image.open(icon))[..., 3]
    assert (np.asarray(load_image(icon))[alpha == 0] == 255).all()


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGB", "RGBA", "I;16", "CMYK", "1"])
def test_every_mode_is_read_as_rgb(tmp_path, mode):
    """Eight grey levels (black and white for the 1-bit mode), opaque, saved in ``mode``:
    read back as the same RGB pixels (CMYK as PIL converts it, within 1 level)."""
    levels = np.array([0, 36, 73, 109, 146, 182, 219, 255], dtype=np.uint8)
    grey = levels[np.arange(64 * 48).reshape(48, 64) % 8] if mode != "1" else np.where(
        np.arange(64 * 48).reshape(48, 64) % 2, 255, 0).astype(np.uint8)
    image = Image.fromarray(grey)
    if mode == "I;16":
        image = Image.fromarray(grey.astype(np.uint16) * 257)  # 16-bit: 255 -> 65535
    elif mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    elif mode != "L":
        image = image.convert(mode)
    path = tmp_path / ("image.jpg" if mode == "CMYK" else "image.png")
    image.save(path, **({"quality": 100} if mode == "CMYK" else {}))
    assert Image.open(path).mode == mode
    loaded = load_image(str(path))
    assert loaded.mode == "RGB" and loaded.size == (64, 48)
    expected = np.repeat(grey[..., None], 3, axis=2).astype(int)
    tolerance = 3 if mode == "CMYK" else 0
    np.testing.assert_allclose(np.asarray(loaded, dtype=int), expected, atol=tolerance)


def test_sizes_are_fitted_to_the_square_with_white(tmp_path):
    """A 40 x 20 black image fitted to 64: scaled to 64 x 32, centred, white above and below."""
    path = _save(np.zeros((20, 40, 3)), tmp_path / "wide.png")
    square = np.asarray(load_image(path, 64))
    assert square.shape == (64, 64, 3)
    assert (square[:16] == 255).all() and (square[48:] == 255).all() and (square[17:47] == 0).all()
    assert load_image(path).size == (40, 20)  # without a size: as it is
    small = np.asarray(load_image(_save(np.zeros((8, 8, 3)), tmp_path / "small.png"), 64))
    assert small.shape == (64, 64, 3) and (small == 0).all()  # scaled up, not padded


def test_svg_icons_are_refused_with_a_hint(tmp_path):
    for name in ("logo.svg", "logo.png"):  # by its name, or by its content
        path = tmp_path / name
        path.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
        with pytest.raises(EncoderError, match=f"{name} is not an image .*SVG images are not read: rasterise it"):
            check_images([str(path)], ["app.desktop"])


def test_cache_is_keyed_by_file_content(tmp_path, icons):
    a, b = tmp_path / "a.png", tmp_path / "sub" / "b.png"
    b.parent.mkdir()
    shutil.copyfile(icons[0], a)
    shutil.copyfile(icons[0], b)
    encoder = ImageFeatureEncoder(cache_dir=tmp_path / "cache", progress=False)
    first = encoder.encode([str(a), str(b), str(a)])
    np.testing.assert_array_equal(first[0], first[1])
    assert len(encoder.cache) == 1
    shutil.copyfile(icons[1], b)  # same path, new content: a new entry
    second = encoder.encode([str(a), str(b)])
    assert len(encoder.cache) == 2 and not np.allclose(second[0], second[1])
    # A new encoder reads both back without computing anything.
    reader = ImageFeatureEncoder(cache_dir=tmp_path / "cache", progress=False)
    reader._encode_batch = None
    np.testing.assert_array_equal(reader.encode([str(a), str(b)]), second)


def test_features_find_each_icon_from_a_resized_recompressed_copy(tmp_path, icons, icon_vectors):
    # Downscaled to 48 px and saved as JPEG, every icon's nearest neighbour among the 60
    # originals must still be itself: the features are stable under resampling and
    # compression and still tell 60 real icons apart (noise or a constant would not).
    copies = []
    for i, path in enumerate(icons):
        copies.append(str(tmp_path / f"{i}.jpg"))
        load_image(path).resize((48, 48), Image.Resampling.LANCZOS).save(copies[-1], quality=85)
    similarity = ImageFeatureEncoder(cache_dir=False, progress=False).encode(copies) @ icon_vectors.T
    np.testing.assert_array_equal(similarity.argmax(axis=1), np.arange(60))


# --------------------------------------------------------------------------- bad files


@pytest.fixture
def not_an_image(tmp_path):
    path = tmp_path / "icon.png"
    path.write_text("this is a text file, not a PNG")
    return str(path)


def test_missing_file_is_named(tmp_path):
    missing = str(tmp_path / "nowhere.png")
    encoder = ImageFeatureEncoder(cache_dir=False, progress=False)
    with pytest.raises(EncoderError, match=f"{missing} does not exist"):
        encoder.encode([missing])
    with pytest.raises(EncoderError, match=f"item 'gone.desktop': {missing} does not exist"):
        encoder.encode([missing], item_ids=["gone.desktop"])


def test_non_image_file_is_named_with_its_item(icons, not_an_image):
    encoder = ImageFeatureEncoder(cache_dir=False, progress=False)
    with pytest.raises(EncoderError, match=f"{not_an_image} is not an image"):
        encoder.encode([icons[0], not_an_image])
    expected = f"item 'hivelytracker.desktop': {not_an_image} is not an image (cannot identify image file)"
    with pytest.raises(EncoderError) as caught:
        check_images([icons[0], not_an_image], ["ok.desktop", "hivelytracker.desktop"])
    assert str(caught.value) == expected
    with pytest.raises(EncoderError, match="2 image paths but 1 item ids"):
        check_images([icons[0], not_an_image], ["ok.desktop"])


def test_truncated_file_is_refused(tmp_path, icons):
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(Path(icons[0]).read_bytes()[:200])
    with pytest.raises(EncoderError, match="cut.png cannot be read as an image"):
        check_images([str(truncated)])
    with pytest.raises(EncoderError, match="cut.png cannot be read as an image"):
        load_image(str(truncated))


def test_failing_batch_leaves_only_completed_batches_in_cache(tmp_path, icons, not_an_image):
    # Batches follow the sorted unique paths: (a, b) is encoded and kept, then (icon.png, z) fails.
    paths = [str(shutil.copyfile(icons[i], tmp_path / name)) for i, name in [(0, "a.png"), (1, "b.png"), (2, "z.png")]]
    paths.insert(2, not_an_image)
    encoder = ImageFeatureEncoder(batch_size=2, cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(EncoderError, match="icon.png is not an image"):
        encoder.encode(paths)
    assert len(encoder.cache) == 2
    # Checked first when item ids are given: nothing is encoded at all.
    fresh = ImageFeatureEncoder(batch_size=2, cache_dir=tmp_path / "cache2", progress=False)
    with pytest.raises(EncoderError, match="item 'c'"):
        fresh.encode(paths, item_ids=["a", "b", "c", "z"])
    assert len(fresh.cache) == 0


# --------------------------------------------------------------------------- CLIP-family towers

_WORDS = ["<pad>", "<unk>", "<s>", "</s>"] + "a the of and for with game music editor icon text image".split()
_TEXT = dict(vocab_size=len(_WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
             num_attention_heads=2, max_position_embeddings=16, pad_token_id=0, bos_token_id=2, eos_token_id=3)
_VISION = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
               image_size=32, patch_size=8)
_CLIP_PREPROCESSOR = {  # the legacy layout of openai/clip-vit-base-patch32, at 32 px
    "crop_size": 32, "do_center_crop": True, "do_normalize": True, "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 32,
}
_SIGLIP_PREPROCESSOR = {
    "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5],
    "image_processor_type": "SiglipImageProcessor", "image_std": [0.5, 0.5, 0.5], "resample": 3,
    "rescale_factor": 1 / 255, "size": {"height": 32, "width": 32},
}


def _tokenizer():
    """A word-level tokenizer over a dozen words, built offline."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(_WORDS)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", eos_token="</s>")


def _write_model(model, directory: Path, preprocessor: dict) -> Path:
    model.save_pretrained(directory)
    _tokenizer().save_pretrained(directory)
    (directory / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    return directory


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Tiny random CLIP and SigLIP models in every supported layout: {layout: directory}."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import CLIPConfig, CLIPModel, CLIPVisionModelWithProjection, SiglipConfig, SiglipModel

    root = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    clip_config = CLIPConfig(text_config={**_TEXT, "projection_dim": 24},
                             vision_config={**_VISION, "projection_dim": 24}, projection_dim=24)
    clip = _write_model(CLIPModel(clip_config), root / "clip", _CLIP_PREPROCESSOR)
    siglip = _write_model(SiglipModel(SiglipConfig(text_config=_TEXT, vision_config=_VISION)),
                          root / "siglip", _SIGLIP_PREPROCESSOR)
    vision = _write_model(CLIPVisionModelWithProjection.from_pretrained(clip), root / "vision", _CLIP_PREPROCESSOR)
    legacy = root / "st-legacy"  # the layout of sentence-transformers/clip-ViT-B-32 on the hub
    shutil.copytree(clip, legacy / "0_CLIPModel")
    (legacy / "modules.json").write_text(json.dumps(
        [{"idx": 0, "name": "0", "path": "0_CLIPModel", "type": "sentence_transformers.models.CLIPModel"}]))
    SentenceTransformer(str(clip), device="cpu").save(str(root / "st"))  # what this version writes
    return {"clip": clip, "siglip": siglip, "vision": vision, "st-legacy": legacy, "st": root / "st"}


@pytest.mark.parametrize("layout, dimension", [("clip", 24), ("siglip", 32), ("vision", 24),
                                               ("st-legacy", 24), ("st", 24)])
def test_clip_towers_in_every_layout(tiny, icons, layout, dimension):
    from polytopic.encoders.clip import CLIPImageEncoder, CLIPTextEncoder

    encoder = get_encoder(str(tiny[layout]), modality="image", cache_dir=False, progress=False)
    assert isinstance(encoder, CLIPImageEncoder) and encoder.dimension == dimension
    vectors = encoder.encode(icons[:5])
    assert vectors.shape == (5, dimension) and np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    again = CLIPImageEncoder(tiny[layout], cache_dir=False, progress=False).encode(icons[:5])
    np.testing.assert_array_equal(again, vectors)
    if layout != "vision":
        texts = CLIPTextEncoder(tiny[layout], cache_dir=False, progress=False).encode(["a game icon", "music editor"])
        assert texts.shape == (2, dimension) and np.isfinite(texts).all()


def test_clip_vectors_match_sentence_transformers(tiny, icons):
    from sentence_transformers import SentenceTransformer

    from polytopic.encoders.clip import CLIPTextEncoder

    reference = SentenceTransformer(str(tiny["st"]), device="cpu")
    ours = get_encoder(str(tiny["st"]), modality="image", normalize=False, cache_dir=False, progress=False)
    expected = reference.encode([load_image(p) for p in icons[:4]])
    np.testing.assert_allclose(ours.encode(icons[:4]), expected, atol=1e-5)
    texts = ["a game icon", "music editor for text"]
    ours_text = CLIPTextEncoder(tiny["st"], normalize=False, cache_dir=False, progress=False).encode(texts)
    np.testing.assert_allclose(ours_text, reference.encode(texts), atol=1e-5)


def test_vision_tower_alone_equals_the_full_model(tiny, icons):
    full = get_encoder(str(tiny["clip"]), modality="image", cache_dir=False, progress=False).encode(icons[:4])
    alone = get_encoder(str(tiny["vision"]), modality="image", cache_dir=False, progress=False).encode(icons[:4])
    np.testing.assert_allclose(alone, full, atol=1e-5)


def test_changed_weight_is_a_new_identity_and_reads_no_old_vectors(tiny, tmp_path, icons):
    from safetensors.torch import load_file, save_file

    from polytopic.encoders.clip import CLIPTextEncoder

    same, changed = tmp_path / "same", tmp_path / "changed"
    shutil.copytree(tiny["clip"], same)
    shutil.copytree(tiny["clip"], changed)
    weights = load_file(changed / "model.safetensors")
    weights["visual_projection.weight"][0, 0] += 1.0
    save_file(weights, changed / "model.safetensors", metadata={"format": "pt"})

    def encoder(path):
        return get_encoder(str(path), modality="image", cache_dir=tmp_path / "cache", progress=False)

    original = encoder(tiny["clip"])
    vectors = original.encode(icons[:3])
    assert encoder(same).identity == original.identity  # content, not path
    assert encoder(changed).identity != original.identity
    assert CLIPTextEncoder(changed, cache_dir=False).identity != CLIPTextEncoder(tiny["clip"], cache_dir=False).identity
    from_changed = encoder(changed).encode(icons[:3])
    assert not np.allclose(from_changed, vectors)
    uncached = get_encoder(str(changed), modality="image", cache_dir=False, progress=False).encode(icons[:3])
    np.testing.assert_allclose(from_changed, uncached, atol=1e-6)


def test_not_a_clip_directory_is_refused(tiny, tmp_path):
    from transformers import CLIPVisionModel

    from polytopic.encoders.clip import CLIPTextEncoder

    with pytest.raises(EncoderError, match="'image-feature' is not a directory.*'image-features'"):
        get_encoder("image-feature", modality="image")
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(EncoderError, match=r"is not a CLIP-family model directory \(bert\)"):
        get_encoder(str(bert), modality="image")
    CLIPVisionModel.from_pretrained(tiny["clip"]).save_pretrained(tmp_path / "no-projection")
    with pytest.raises(EncoderError, match="not a CLIP-family model directory"):
        get_encoder(str(tmp_path / "no-projection"), modality="image")
    with pytest.raises(EncoderError, match="has no text tower"):
        CLIPTextEncoder(tiny["vision"])


def test_directories_without_a_vision_tower_are_refused(tiny, tmp_path, icons):
    """A text tower alone, an empty folder, a sentence-transformers text model, and a CLIP
    folder without its weights: each an EncoderError naming the folder."""
    from transformers import CLIPTextModelWithProjection

    CLIPTextModelWithProjection.from_pretrained(tiny["clip"]).save_pretrained(tmp_path / "text")
    with pytest.raises(EncoderError, match="holds a clip_text_model model, which has no image tower"):
        get_encoder(str(tmp_path / "text"), modality="image")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderError, match=r"empty is not a CLIP-family model directory \(no config.json\)"):
        get_encoder(str(tmp_path / "empty"), modality="image")
    minilm = tmp_path / "minilm"  # the layout of sentence-transformers/all-MiniLM-L6-v2
    (minilm / "1_Pooling").mkdir(parents=True)
    (minilm / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (minilm / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    with pytest.raises(EncoderError, match=r"minilm is not a CLIP-family model directory \(bert\)"):
        get_encoder(str(minilm), modality="image")
    weightless = tmp_path / "weightless"
    shutil.copytree(tiny["clip"], weightless)
    (weightless / "model.safetensors").unlink()
    encoder = get_encoder(str(weightless), modality="image", cache_dir=False, progress=False)
    with pytest.raises(EncoderError, match="cannot load the clip model in .*weightless"):
        encoder.encode(icons[:1])


def test_clip_text_past_the_window_is_cut_with_a_warning(tiny, caplog):
    from polytopic.encoders.clip import CLIPTextEncoder

    encoder = CLIPTextEncoder(tiny["clip"], cache_dir=False, progress=False)
    long, cut = " ".join(["game"] * 40), " ".join(["game"] * 14)  # window 16 = <s> + 14 words + </s>
    with caplog.at_level("WARNING", logger="polytopic.encoders.clip"):
        vectors = encoder.encode([long, cut])
    assert "1 of 2 texts are longer than" in caplog.text
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)


def test_zeroshot_transforms_images_only_through_an_aligned_clip(tiny, apps, icons):
    """The M3L paper's ZeroshotTM row: trained on texts through a CLIP text tower, it reads
    icons through the same model's image tower; any other pair is refused."""
    from polytopic import Corpus
    from polytopic.encoders.clip import CLIPTextEncoder
    from polytopic.errors import ViewError
    from polytopic.models.ctm import ZeroShotTM

    text = get_encoder(str(tiny["clip"]), "text", cache_dir=False, progress=False)
    assert isinstance(text, CLIPTextEncoder)  # a CLIP folder given as a text encoder: its text tower
    assert type(get_encoder()).__name__ == "SentenceTransformerEncoder"
    corpus = Corpus([app["debian"]["en"] for app in apps], images=icons)
    model = ZeroShotTM(n_topics=3, encoder=text, image_encoder=str(tiny["clip"]), epochs=2, min_df=1,
                       progress=False).fit(corpus)
    theta = model.transform(corpus, images=True)
    assert theta.shape == (60, 3) and np.allclose(theta.sum(1), 1, atol=1e-5)
    unaligned = ZeroShotTM(n_topics=3, encoder=text, image_encoder="image-features", epochs=1, min_df=1,
                           progress=False).fit(corpus)
    with pytest.raises(ViewError, match="aligned text-image encoder"):
        unaligned.transform(corpus, images=True)
    with pytest.raises(ViewError, match="no image view"):
        ZeroShotTM(n_topics=3, encoder=text, epochs=1, min_df=1, progress=False).fit(corpus).transform(
            corpus, images=True)
