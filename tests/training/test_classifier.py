"""Training the digit classifier, and the samples command that ships what a model samples."""
import pytest
import torch

from gm_helpers.analysis.sample_quality import accuracy
from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.training.classifier import train_classifier


def test_classifier_learns_a_separable_toy_problem():
    """Two classes: a bright top half vs a bright bottom half (the loss must fall to ~0)."""
    x = torch.zeros(64, 1, 28, 28)
    x[:32, :, :14], x[32:, :, 14:] = 1, 1
    y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
    torch.manual_seed(0)   # the initial weights: not whatever state earlier tests left
    model = train_classifier(DigitClassifier(width=4), x, y, num_epochs=15,
                                    progress=False)
    assert accuracy(model, x, y) == 1.0


# ----------------------------------------------------------------------------- the samples command
def test_samples_store_what_the_model_samples(tmp_path):
    """A colour model's samples keep their levels in all three channels (not bit-packed: that
    kept only the red channel, thresholded); the DCGAN's binary digits are bit-packed."""
    import torch

    from gm_helpers.data import unpack_bits
    from gm_helpers.training.checkpoint import load_shipped
    from gm_helpers.training.classifier import samples_main

    entry = samples_main(["--of", "colour_pixelcnn.pt", "--num", "1", "--threads", "1",
                          "--out", str(tmp_path / "colour.pt")])
    stored = torch.load(tmp_path / "colour.pt", weights_only=True)
    model, _ = load_shipped("colour_pixelcnn.pt")
    x = stored["samples"]   # (1, 3, 28, 28) uint8, levels 0..3
    assert x.shape == (1, 3, 28, 28) and x.dtype == torch.uint8 and entry["num"] == 1
    assert stored["levels"] == model.levels == 4 and int(x.max()) == 3  # not thresholded to 0/1
    assert not torch.equal(x[:, 0], x[:, 1]) or not torch.equal(x[:, 1], x[:, 2])
    samples_main(["--of", "dcgan.pt", "--num", "16", "--out", str(tmp_path / "dcgan.pt")])
    G, _ = load_shipped("dcgan.pt")
    assert torch.equal(unpack_bits(torch.load(tmp_path / "dcgan.pt", weights_only=True)["packed"]),
                       G.sample_binary(16, seed=0))


def test_samples_pass_eta_to_the_ddpm_strided_sampler(tmp_path):
    import torch

    from gm_helpers.data import unpack_bits
    from gm_helpers.training.checkpoint import load_shipped
    from gm_helpers.training.classifier import samples_main

    entry = samples_main(["--of", "ddpm.pt", "--num", "3", "--steps", "4", "--eta", "1",
                          "--threads", "1", "--out", str(tmp_path / "d.pt")])
    model, _ = load_shipped("ddpm.pt")
    expected = model.sample(3, steps=4, eta=1.0, generator=torch.Generator().manual_seed(0))
    stored = unpack_bits(torch.load(tmp_path / "d.pt", weights_only=True)["packed"])
    assert entry["eta"] == 1.0 and torch.equal(stored, expected.reshape(stored.shape))


@pytest.mark.parametrize("of", ["gated_pixelcnn.pt", "pixelcnn.pt", "grayscale_mixture.pt"])
def test_samples_cached_draws_the_plain_samplers_images(tmp_path, of):
    """Every PixelCNN kind the cached sampler serves (a MixturePixelCNN is a PixelCNN with
    other output heads) is drawn by it, and its images are the plain sampler's."""
    import torch

    from gm_helpers.data import unpack_bits
    from gm_helpers.training.checkpoint import load_shipped
    from gm_helpers.training.classifier import samples_main

    entry = samples_main(["--of", of, "--num", "2", "--cached", "--threads", "1",
                          "--out", str(tmp_path / "g.pt")])
    model, _ = load_shipped(of)
    saved = torch.load(tmp_path / "g.pt", weights_only=True)
    stored = unpack_bits(saved["packed"]) if "packed" in saved else saved["samples"]
    plain = model.sample(2, generator=torch.Generator().manual_seed(0))
    assert entry["sampler"] == "cached" and "--cached" in entry["command"]
    assert torch.equal(stored.reshape(plain.shape).to(plain.dtype), plain)


@pytest.mark.parametrize("of, says, extra", [("digit_classifier.pt", "cannot sample", []),
                                             ("autoencoder.pt", "cannot sample", []),
                                             ("nothing.pt", "--of", []),
                                             ("ddpm.pt", "needs --steps", ["--eta", "1"]),
                                             ("gated_pixelcnn.pt", "GatedPixelCNN",
                                              ["--steps", "5", "--eta", "1"]),
                                             ("ddpm.pt", "must be in", ["--steps", "5", "--eta", "-1"]),
                                             ("nade.pt", "no cached sampler", ["--cached"])])
def test_samples_refuse_models_that_cannot_sample(tmp_path, capsys, of, says, extra):
    from gm_helpers.training.classifier import samples_main
    with pytest.raises(SystemExit) as stop:
        samples_main(["--of", of, "--out", str(tmp_path / "s.pt")] + extra)
    assert stop.value.code == 2 and says in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_samples_and_classifier_check_their_outputs_before_any_work(tmp_path, capsys, monkeypatch):
    from gm_helpers.training import classifier
    monkeypatch.setattr(classifier, "load_shipped", lambda *a: pytest.fail("work began"))
    monkeypatch.setattr(classifier, "train_classifier", lambda *a, **k: pytest.fail("work began"))
    (tmp_path / "manifest.json").write_text('{"x.pt": "not an entry"}')
    for main, args in ((classifier.samples_main, ["--of", "dcgan.pt"]), (classifier.main, [])):
        with pytest.raises(SystemExit) as stop:
            main(args + ["--out", str(tmp_path / "s.pt")])
        assert stop.value.code == 2 and "not a valid manifest" in capsys.readouterr().err
    (tmp_path / "manifest.json").unlink()
    (tmp_path / "s.pt").write_bytes(b"x")
    for main, args in ((classifier.samples_main, ["--of", "dcgan.pt"]), (classifier.main, [])):
        with pytest.raises(SystemExit) as stop:
            main(args + ["--out", str(tmp_path / "s.pt")])
        assert stop.value.code == 2 and "--overwrite" in capsys.readouterr().err
