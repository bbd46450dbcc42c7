"""effnet.ray.Predictor in a Ray Data pipeline on this machine: 2 actors with half a CPU
each, sharing one pretend GPU (lavapipe does the work), the object store capped. Each test
has a time limit: a starved pipeline hangs without an error."""

import os

import numpy as np
import pytest

ray = pytest.importorskip("ray") if os.environ.get("CI") != "true" else __import__("ray")

RES = 96  # small: the point is the plumbing, and every actor compiles its own session
TIME_LIMIT = 300  # about 60 s here; a hang fails instead of stalling CI


@pytest.fixture(scope="module")
def cluster():
    ray.init(
        num_cpus=2,
        num_gpus=1,  # pretend: Ray only counts it
        object_store_memory=200 * 1024**2,  # else ~30% of RAM
        include_dashboard=False,
        log_to_driver=True,
        runtime_env={"env_vars": {"EFFNET_ALLOW_CPU_ADAPTER": "1"}},
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def pipeline(photos, **predictor_kwargs):
    import effnet.ray

    ds = ray.data.read_binary_files(photos, include_paths=True)
    return ds.map_batches(
        effnet.ray.Predictor,
        fn_constructor_kwargs=dict(batch=4, resolution=RES, **predictor_kwargs),
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_size=4,
        batch_format="numpy",
        # Half a CPU each leaves a whole one for the read tasks; half the pretend GPU each.
        **effnet.ray.Predictor.remote_args(num_gpus=0.5, num_cpus=0.5),
    )


def rows_by_path(ds):
    rows = ds.take_all()
    paths = [r["path"] for r in rows]
    return paths, {r["path"]: np.asarray(r["embedding"]) for r in rows}


def expected(lite0, photos):
    return lite0.session(batch=4, resolution=RES, output="embeddings").embed(photos)


@pytest.mark.timeout(TIME_LIMIT)
def test_pipeline_gives_the_plain_sessions_embeddings(cluster, lite0, photos):
    paths, got = rows_by_path(pipeline(photos))
    assert sorted(paths) == sorted(photos)  # every row exactly once
    for path, want in zip(photos, expected(lite0, photos)):
        # Same bytes, same decoder and kernels, one image's result independent of its batch
        # neighbours: equal to float rounding of the batch layout, far below 1e-5.
        np.testing.assert_allclose(got[path], want, rtol=0, atol=1e-5)


@pytest.mark.timeout(TIME_LIMIT)
def test_a_crashed_actor_loses_no_row(cluster, lite0, photos, tmp_path):
    marker = tmp_path / "crashed"
    paths, got = rows_by_path(pipeline(photos, _test_fail_once=str(marker)))
    assert marker.exists(), "the injected crash did not happen"
    assert sorted(paths) == sorted(photos)  # retried, not lost, not duplicated
    for path, want in zip(photos, expected(lite0, photos)):
        np.testing.assert_allclose(got[path], want, rtol=0, atol=1e-5)  # as above


def test_a_gpu_actor_without_a_gpu_adapter_fails_by_default(engine):
    from effnet.ray import choose_adapter

    if any(d["device_type"] != "Cpu" for d in __import__("effnet").devices()):
        pytest.skip("this machine has a GPU adapter")
    with pytest.raises(RuntimeError, match="only adapters are CPU ones"):
        choose_adapter([0], allow_cpu=False)
    index, note = choose_adapter([0], allow_cpu=True)
    assert index is None and "CPU adapter (allowed)" in note
