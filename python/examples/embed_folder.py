"""Embed every image of a folder into Parquet with Ray Data and effnet.

    python python/examples/embed_folder.py PHOTOS_DIR OUT_DIR [--actors 2] [--cpu-ok]

Each actor holds one GPU (Ray's `num_gpus=1`) and its own engine, model and session; rows
come out as (path, embedding). On a machine without a GPU, `--cpu-ok` pretends there is one
per actor and lets the actors use the CPU adapter (lavapipe): for trying the pipeline out.
"""

import argparse
import time

import ray

import effnet.ray


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("photos")
    p.add_argument("out")
    p.add_argument("--actors", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--model", default=None, help="checkpoint or model name (default: Lite0)")
    p.add_argument("--cpu-ok", action="store_true", help="no GPU: pretend, use lavapipe")
    a = p.parse_args()

    if a.cpu_ok:
        ray.init(
            num_gpus=a.actors,  # pretend GPUs, one per actor
            object_store_memory=200 * 1024**2,
            include_dashboard=False,
            runtime_env={"env_vars": {"EFFNET_ALLOW_CPU_ADAPTER": "1"}},
        )
    else:
        ray.init(include_dashboard=False)
    started = time.perf_counter()
    ds = ray.data.read_binary_files(
        a.photos, include_paths=True, file_extensions=["jpg", "jpeg", "png", "JPEG", "JPG"]
    )
    ds = ds.map_batches(
        effnet.ray.Predictor,
        fn_constructor_kwargs={"name_or_path": a.model, "batch": a.batch},
        compute=ray.data.ActorPoolStrategy(size=a.actors),
        batch_size=a.batch,
        batch_format="numpy",
        # One GPU per actor; half a CPU leaves room for the read tasks on small machines.
        **effnet.ray.Predictor.remote_args(num_gpus=1, num_cpus=0.5),
    )
    ds.write_parquet(a.out)
    rows = ray.data.read_parquet(a.out).count()
    seconds = time.perf_counter() - started
    print(f"{rows} embeddings in {a.out} in {seconds:.1f} s ({rows / seconds:.1f} images/s)")


if __name__ == "__main__":
    main()
