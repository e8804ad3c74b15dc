"""The benchmark runs and reports what it says; it asserts no speed (timings are noisy)."""
import pytest

from gm_helpers.training import bench
from gm_helpers.training.bench import main, train_flops


def test_bench_prints_a_row_per_model(capsys):
    rows = main(["fvsbn", "--seconds", "0.05", "--no-compile", "--threads", "1"])
    out = capsys.readouterr().out
    assert [r["model"] for r in rows] == ["fvsbn"]
    assert set(rows[0]["train"]) == {(False, False), (True, False)}
    assert all(v > 0 for v in rows[0]["train"].values())
    assert all(v > 0 for v in rows[0]["sample"].values())
    assert "matmul peak" in out and "| fvsbn | 100 |" in out and "%" in out


def test_train_flops_counts_the_matmuls():
    made = bench.build_model("made", {"D": 10, "hidden": [7, 5]})
    assert train_flops(made) == 3 * 2 * (10 * 7 + 7 * 5 + 5 * 10)
    vae = bench.build_model("vae", {"D": 10, "hidden": [7], "latent": 3})
    assert train_flops(vae) == 3 * 2 * (10 * 7 + 7 * 6 + 3 * 7 + 7 * 10)
    iwae = bench.build_model("iwae", {"D": 10, "hidden": [7], "latent": 3, "k": 4})
    assert train_flops(iwae) == 3 * 2 * (10 * 7 + 7 * 6 + 4 * (3 * 7 + 7 * 10))
    assert train_flops(bench.build_model("pixelcnn", {"hidden": 2, "num_layers": 1})) is None
    assert train_flops(bench.build_model("nade", {"D": 5, "H": 3})) is None


def test_bench_rejects_an_unknown_model():
    with pytest.raises(SystemExit):
        main(["vae9", "--seconds", "0.01"])


def test_bench_times_what_training_minimises():
    """A VAE's log_prob is a no-grad estimate: the bench must time its training loss."""
    rows = main(["vae", "--seconds", "0.05", "--no-compile", "--threads", "1",
                       "--no-sampling"])
    assert rows[0]["model"].startswith("vae") and all(v > 0 for v in rows[0]["train"].values())


def test_the_bf16_share_of_the_peak_is_a_dash_without_native_bf16(monkeypatch, capsys):
    """An emulated bf16 peak of a few GFLOP/s made the share print thousands of percent."""
    assert bench._share(1e9, 2e8, amp=True, native=False) == "— (no native bf16)"
    assert bench._share(1e9, 2e9, amp=True, native=True) == "50%"
    assert bench._share(1e9, 2e9, amp=False, native=False) == "50%"
    assert bench._share(1e9, 0.0, amp=False, native=True) == "—"
    monkeypatch.setattr(bench, "native_bf16", lambda: False)
    main(["made 1x500", "--seconds", "0.05", "--no-compile", "--threads", "1", "--no-sampling"])
    out = capsys.readouterr().out
    assert "native bf16 on this CPU: no" in out and "— (no native bf16)" in out
    assert "bf16 not measured" in out     # minutes on a 2048-matrix when emulated, and meaningless


def test_fast_sampling_table_compares_the_two_samplers(capsys, monkeypatch):
    """The table's rows on small models (the shipped sizes take a minute): one per model and
    batch, both timings positive."""
    from gm_helpers.models.pixelcnn_cache import sample_cached
    monkeypatch.setattr(bench, "FAST_SAMPLERS", {
        "made 1x16": ("made", {"D": 784, "hidden": [16]}, "incremental",
                      lambda model, n, g: model.sample_incremental(n, generator=g)),
        "pixelcnn 4x1": ("pixelcnn", {"hidden": 4, "num_layers": 1, "image_size": 6}, "cached",
                         lambda model, n, g: sample_cached(model, n, generator=g))})
    rows = bench.bench_fast_sampling(batches=(2,))
    assert [(r["model"], r["batch"]) for r in rows] == [("made 1x16", 2), ("pixelcnn 4x1", 2)]
    assert all(r["plain"] > 0 and r["fast"] > 0 for r in rows)
    assert "| made 1x16 | incremental | 2 |" in capsys.readouterr().out
