"""tlkit against PyTorch on the CPU, side by side: ``python -m benchmarks.run`` (or ``make bench``).

What it does, in one run of about half a minute:

1. pins one BLAS thread (``OPENBLAS_NUM_THREADS``, unless already set) and
   ``torch.set_num_threads`` to the same count, gives OpenBLAS the fastest kernel the CPU
   runs (``blas_kernel.py``), and measures numpy's own SGEMM peak;
2. builds each model in tlkit and its PyTorch twin with the same initial weights, and
   checks on one batch that logits, loss, every gradient (NCHW and channels_last), the
   head-only gradients and the extracted features agree;
3. times, interleaving the frameworks (tlkit, torch, torch channels_last, tlkit, ...),
   the median wall and process-CPU time of a full training step, a head-only step and
   ``extract_features`` on a batch of 256;
4. profiles one medium and one deep step per op, compares a feature-extraction training
   run with full fine-tuning, measures ``extract_features`` over 100,000 images in a
   fresh process (peak RSS), and one vs two BLAS threads in fresh processes;
5. prints the table, writes ``benchmarks/results/latest.json`` (a list of records) and
   ``benchmarks/results/latest_meta.json`` (machine, versions, profile, extras), and
   rewrites the table in ``benchmarks/README.md``.

``python -m benchmarks.run --quick`` runs fewer rounds and skips the extras.
"""

from __future__ import annotations

import os
import sys

from benchmarks.blas_kernel import cpu_flags, fastest_kernel  # noqa: E402 - pure Python, no numpy

THREADS = int(os.environ.setdefault("OPENBLAS_NUM_THREADS", "1"))
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
os.environ.setdefault("MKL_NUM_THREADS", str(THREADS))
# The fastest kernel this CPU runs (blas_kernel.py says why); TLKIT_BENCH_KERNEL overrides it,
# e.g. TLKIT_BENCH_KERNEL=HASWELL measures the AVX2 kernel.
KERNEL = os.environ.get("TLKIT_BENCH_KERNEL") or fastest_kernel(cpu_flags())
if KERNEL:
    os.environ["OPENBLAS_CORETYPE"] = KERNEL
if "numpy" in sys.modules and __name__ == "__main__":  # BLAS already started with other settings
    os.execv(sys.executable, [sys.executable, "-m", "benchmarks.run", *sys.argv[1:]])

import copy  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.allocator import keep_freed_memory  # noqa: E402
from benchmarks.blas_kernel import loaded_kernel  # noqa: E402
from benchmarks.models import MODELS, build_network, gemm_flops, input_shape, make_batch  # noqa: E402
from tlkit.nn import SGD, softmax_cross_entropy  # noqa: E402
from tlkit.nn.network import Network  # noqa: E402
from tlkit.training import predict_logits  # noqa: E402

try:
    import torch  # noqa: E402
    import torch.nn.functional as F  # noqa: E402, N812
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("benchmarks need PyTorch: `pip install -e .[bench]` (or `make bench`)")

from benchmarks.torch_models import features_to_tlkit, nchw, to_torch  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BATCHES = (32, 64, 128)
EXTRACT_BATCH = 256
LR = 0.01
CONV_MODELS = ("simple", "medium", "deep", "cnn28")


# -- machine ------------------------------------------------------------------------------------
def machine_info() -> dict:
    cpu = platform.processor()
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"model name\s*:\s*(.*)", text).group(1).strip()
        flags = re.search(r"flags\s*:\s*(.*)", text).group(1).split()
        cpu += " (" + ", ".join(f for f in ("avx2", "fma", "avx512f") if f in flags) + ")"
    except (OSError, AttributeError):
        pass
    blas = "?"
    try:
        cfg = np.show_config(mode="dicts")
        blas_cfg = cfg["Build Dependencies"]["blas"]
        blas = f"{blas_cfg['name']} {blas_cfg['version']}"
    except Exception:  # noqa: BLE001 - informational only
        pass
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "numpy_blas": blas, "torch": torch.__version__,
        "blas_threads": THREADS, "openblas_kernel": loaded_kernel(), "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
    }


def sgemm_peak(repeats: int = 7) -> float:
    """numpy's float32 GEMM GFLOP/s (best of a few 1024^3 products) with this thread count."""
    best = 0.0
    for n in (512, 1024):
        a = np.random.default_rng(0).random((n, n), dtype=np.float32)
        b = a.T.copy()
        out = np.empty_like(a)
        np.matmul(a, b, out=out)
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(a, b, out=out)
            best = max(best, 2.0 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


# -- the two frameworks ----------------------------------------------------------------------

def base_of(network: Network) -> Network:
    """Every block but the head, in a network of the same engine."""
    return network.upto(network.blocks[-2].name)


def sgd_step(network: Network, x: np.ndarray, y: np.ndarray, lr: float = LR):
    """One timed training step of tlkit: forward, loss, backward, SGD update."""
    opt = SGD(lr=lr)

    def step() -> None:
        logits = network.forward(x, training=True)
        _, grad = softmax_cross_entropy(logits, y)
        network.backward(grad)
        opt.step(network.param_groups())
    return step

class Pair:
    """One model in tlkit and in PyTorch (NCHW and channels_last), same initial weights."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.net = build_network(model, seed=0)
        self.torch, self.pairs = to_torch(self.net, input_shape(model))
        self.conv = model in CONV_MODELS
        if self.conv:
            self.torch_cl = copy.deepcopy(self.torch).to(memory_format=torch.channels_last)
            params_cl = dict(self.torch_cl.named_parameters())
            names = {id(p): n for n, p in self.torch.named_parameters()}
            self.pairs_cl = [(*p[:3], params_cl[names[id(p[3])]], p[4]) for p in self.pairs]
        else:
            self.torch_cl, self.pairs_cl = None, []

    def torch_input(self, x: np.ndarray, channels_last: bool) -> torch.Tensor:
        t = nchw(x)
        return t.contiguous(memory_format=torch.channels_last) if channels_last else t

    # one-batch equality checks, before any update
    def check(self, batch: int = 32) -> dict:
        x, y = make_batch(self.model, batch, seed=7)
        snapshot = self.net.state_dict()
        logits = self.net.forward(x, training=True)
        loss, grad = softmax_cross_entropy(logits, y)
        self.net.backward(grad)
        report = {}
        for tag, model, pairs, cl in (("nchw", self.torch, self.pairs, False),
                                      ("channels_last", self.torch_cl, self.pairs_cl, True)):
            if model is None:
                continue
            state = copy.deepcopy(model.state_dict())
            model.train()
            model.zero_grad(set_to_none=True)
            out = model(self.torch_input(x, cl))
            tloss = F.cross_entropy(out, torch.from_numpy(y))
            tloss.backward()
            err = _grad_error([(layout(layer.grads[key]), tp.grad.numpy()) for _, layer, key, tp, layout in pairs])
            report[tag] = {"logits": _rel(logits, out.detach().numpy()), "loss": abs(loss - float(tloss.detach())),
                           "grads": err}
            model.load_state_dict(state)
            model.zero_grad(set_to_none=True)
        self.net.load_state_dict(snapshot)
        # head only: frozen base in inference mode, gradients of the head
        self.set_head_only(True)
        logits = self.net.forward(x, training=True)
        _, grad = softmax_cross_entropy(logits, y)
        self.net.backward(grad)
        out = self.torch(self.torch_input(x, False))
        F.cross_entropy(out, torch.from_numpy(y)).backward()
        head = [p for p in self.pairs if p[0].startswith("head.")]
        report["head_grads"] = _grad_error([(layout(layer.grads[key]), tp.grad.numpy())
                                            for _, layer, key, tp, layout in head])
        self.set_head_only(False)
        self.net.load_state_dict(snapshot)
        for m in (self.torch, self.torch_cl):
            if m is not None:
                m.zero_grad(set_to_none=True)
        # features, inference mode
        feats = predict_logits(base_of(self.net), x, EXTRACT_BATCH)
        self.torch.eval()
        with torch.inference_mode():
            tfeats = features_to_tlkit(self.torch.base(self.torch_input(x, False)), self.net, input_shape(self.model))
        report["features"] = _rel(feats, tfeats)
        worst = max(v if isinstance(v, float) else max(v.values()) for v in report.values())
        if worst > 1e-4:
            raise AssertionError(f"{self.model}: tlkit and PyTorch disagree: {report}")
        return report

    def set_head_only(self, head_only: bool) -> None:
        for block in self.net.blocks[:-1]:
            block.trainable = not head_only
        for m in (self.torch, self.torch_cl):
            if m is None:
                continue
            m.train()
            for block in m.blocks[:-1]:
                block.requires_grad_(not head_only)
                if head_only:
                    block.eval()  # Keras semantics: a frozen BatchNorm uses its running statistics

    # the timed callables
    def tlkit_step(self, x: np.ndarray, y: np.ndarray):
        return sgd_step(self.net, x, y)

    def torch_step(self, x: np.ndarray, y: np.ndarray, channels_last: bool):
        model = self.torch_cl if channels_last else self.torch
        xt, yt = self.torch_input(x, channels_last), torch.from_numpy(y)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=LR)

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xt), yt).backward()
            opt.step()
        return step

    def tlkit_extract(self, x: np.ndarray):
        base = base_of(self.net)
        return lambda: predict_logits(base, x, EXTRACT_BATCH)

    def torch_extract(self, x: np.ndarray, channels_last: bool):
        model = self.torch_cl if channels_last else self.torch
        xt = self.torch_input(x, channels_last)

        def extract() -> None:
            model.eval()
            with torch.inference_mode():
                model.base(xt)
        return extract


def _grad_error(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Largest absolute gradient difference over the largest gradient entry of the network.

    (Per-array relative errors are meaningless for a conv bias followed by BatchNorm, whose
    true gradient is exactly zero: both frameworks return float32 noise there.)
    """
    scale = max(float(np.abs(b).max()) for _, b in pairs)
    return max(float(np.abs(np.asarray(a, np.float64) - b).max()) for a, b in pairs) / max(scale, 1e-12)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


# -- timing ---------------------------------------------------------------------------------------
def interleaved(fns: dict[str, object], rounds: int, target_s: float = 0.02) -> dict[str, tuple[float, float]]:
    """Median (wall, cpu) seconds per call of each function, timed A B C A B C ...

    Each sample runs a function enough times to last about ``target_s``.
    """
    inner = {}
    for name, fn in fns.items():
        fn()
        fn()
        t0 = time.perf_counter()
        fn()
        inner[name] = max(1, round(target_s / max(time.perf_counter() - t0, 1e-6)))
    wall = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for r in range(rounds):
        order = list(fns) if r % 2 == 0 else list(fns)[::-1]  # neither framework always goes first
        for name in order:
            fn, k = fns[name], inner[name]
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(k):
                fn()
            wall[name].append((time.perf_counter() - w0) / k)
            cpu[name].append((time.process_time() - c0) / k)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def bench_model(pair: Pair, rounds: int, peak: float) -> list[dict]:
    records = []
    cases = [("full_step", b) for b in BATCHES] + [("head_step", b) for b in BATCHES] + [("extract", EXTRACT_BATCH)]
    for case, batch in cases:
        x, y = make_batch(pair.model, batch)
        pair.set_head_only(case == "head_step")
        if case == "extract":
            fns = {"tlkit": pair.tlkit_extract(x), "torch": pair.torch_extract(x, False)}
            if pair.conv:
                fns["torch_cl"] = pair.torch_extract(x, True)
        else:
            fns = {"tlkit": pair.tlkit_step(x, y), "torch": pair.torch_step(x, y, False)}
            if pair.conv:
                fns["torch_cl"] = pair.torch_step(x, y, True)
        res = interleaved(fns, rounds)
        flops = gemm_flops(pair.net, batch, pair.model)[case]
        rec = {
            "model": pair.model, "batch": batch, "case": case,
            "tlkit_s": res["tlkit"][0], "torch_s": res["torch"][0], "ratio": res["tlkit"][0] / res["torch"][0],
            "torch_cl_s": res["torch_cl"][0] if "torch_cl" in res else None,
            "ratio_cl": res["tlkit"][0] / res["torch_cl"][0] if "torch_cl" in res else None,
            "tlkit_cpu_s": res["tlkit"][1], "torch_cpu_s": res["torch"][1],
            "torch_cl_cpu_s": res["torch_cl"][1] if "torch_cl" in res else None,
            "ratio_cpu": res["tlkit"][1] / res["torch"][1],
            "gflop": flops / 1e9,
            "tlkit_gflops": flops / res["tlkit"][0] / 1e9, "torch_gflops": flops / res["torch"][0] / 1e9,
            "gemm_peak_gflops": peak, "threads": THREADS,
        }
        if case == "extract":
            rec["tlkit_images_per_s"] = batch / res["tlkit"][0]
            rec["torch_images_per_s"] = batch / res["torch"][0]
            best = min(v[0] for k, v in res.items() if k != "tlkit")
            rec["throughput_vs_best_torch"] = best / res["tlkit"][0]
        records.append(rec)
        print(_row(rec), flush=True)
    pair.set_head_only(False)
    return records


# -- reporting ------------------------------------------------------------------------------------
HEADER = ("| model | batch | case | tlkit ms | torch ms | tlkit/torch | torch CL ms | tlkit/torch CL "
          "| tlkit GFLOP/s (% of peak) |\n|---|---:|---|---:|---:|---:|---:|---:|---:|")


def _row(r: dict) -> str:
    cl = f"{r['torch_cl_s'] * 1e3:.3f} | {r['ratio_cl']:.2f}" if r["torch_cl_s"] else "- | -"
    return (f"| {r['model']} | {r['batch']} | {r['case']} | {r['tlkit_s'] * 1e3:.3f} | {r['torch_s'] * 1e3:.3f} "
            f"| {r['ratio']:.2f} | {cl} | {r['tlkit_gflops']:.1f} ({r['tlkit_gflops'] / r['gemm_peak_gflops']:.0%}) |")


def targets(records: list[dict]) -> list[str]:
    """The targets (at most PyTorch's time on its default CPU path, then toward 0.8x), each
    with the value reached."""
    out = []
    full64 = [r for r in records if r["case"] == "full_step" and r["batch"] == 64]
    for r in full64:
        cl = f", {r['ratio_cl']:.2f} vs channels_last" if r["ratio_cl"] else ""
        out.append(f"full step, batch 64, {r['model']}: {r['ratio']:.2f} vs default{cl} (target <= 1.0, then 0.8) "
                   f"-> {_verdict(r['ratio'])}")
    for r in records:
        if r["case"] == "extract":
            out.append(f"extract, batch 256, {r['model']}: {r['ratio']:.2f} vs default "
                       f"({r['tlkit_images_per_s']:,.0f} img/s, {r['throughput_vs_best_torch']:.2f}x best torch's "
                       f"throughput) (target <= 1.0, then 0.8) -> {_verdict(r['ratio'])}")
    for model in ("simple", "medium", "deep", "cnn28", "mlp"):
        for b in BATCHES:
            full = [r for r in records if (r["model"], r["batch"], r["case"]) == (model, b, "full_step")]
            head = [r for r in records if (r["model"], r["batch"], r["case"]) == (model, b, "head_step")]
            if full and head and (model == "deep" and b == 64):
                f = full[0]["tlkit_s"] / head[0]["tlkit_s"]
                out.append(f"head-only step on deep, batch 64: {f:.1f}x cheaper than the full step (target >= 5) "
                           f"-> {'met' if f >= 5 else 'NOT met'}")
    return out


def _verdict(ratio: float) -> str:
    return "met, also 0.8" if ratio <= 0.8 else "met" if ratio <= 1.0 else "NOT met"


def head_table(records: list[dict]) -> str:
    lines = ["| model | batch | full/head tlkit | full/head torch |", "|---|---:|---:|---:|"]
    for r in records:
        if r["case"] != "full_step":
            continue
        h = next(x for x in records if (x["model"], x["batch"], x["case"]) == (r["model"], r["batch"], "head_step"))
        lines.append(f"| {r['model']} | {r['batch']} | {r['tlkit_s'] / h['tlkit_s']:.1f} "
                     f"| {r['torch_s'] / h['torch_s']:.1f} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    path = HERE / "README.md"
    begin, end = "<!-- latest-run:begin -->", "<!-- latest-run:end -->"
    old = path.read_text() if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in old:
        old += f"\n{begin}\n{end}\n"
    head, rest = old.split(begin, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{begin}\n{text}\n{end}{tail}")


# -- extras -----------------------------------------------------------------------------------
def fe_vs_finetune(models=("simple", "medium", "deep"), n: int = 2000, epochs: int = 5) -> list[dict]:
    """Wall time of a feature-extraction run (features once, then the head) vs full fine-tuning."""
    from tlkit.config import TrainingConfig
    from tlkit.training import Trainer

    out = []
    for model in models:
        x, y = make_batch(model, n, seed=3)
        config = TrainingConfig(epochs=epochs, batch_size=32, learning_rate=1e-3, seed=0)
        net = build_network(model, seed=0)
        t0 = time.perf_counter()
        Trainer(net, config).fit(x, y)
        full = time.perf_counter() - t0
        net = build_network(model, seed=0)
        t0 = time.perf_counter()
        feats = predict_logits(base_of(net), x, EXTRACT_BATCH)
        Trainer(type(net)([net.blocks[-1]]), config).fit(feats, y)
        fe = time.perf_counter() - t0
        out.append({"model": model, "samples": n, "epochs": epochs, "full_finetune_s": full,
                    "feature_extraction_s": fe, "ratio": full / fe})
    return out


def subprocess_json(module: str, *args: str, env: dict | None = None) -> dict:
    cmd = [sys.executable, "-m", module, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True,
                          cwd=HERE.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    rounds = 5 if quick else 11
    keep_freed_memory()  # a process that only trains: reuse freed memory (benchmarks/allocator.py)
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(THREADS) if torch.get_num_interop_threads() != THREADS else None
    info = machine_info()
    peak = sgemm_peak()
    info["numpy_sgemm_peak_gflops"] = peak
    print(f"# tlkit vs PyTorch, {info['date']}")
    print(f"{info['cpu']}, {info['cores']} cores; Python {info['python']}, numpy {info['numpy']} "
          f"({info['numpy_blas']}, kernel {info['openblas_kernel']}), torch {info['torch']}; BLAS threads {THREADS}, "
          f"torch threads "
          f"{info['torch_threads']}; numpy SGEMM peak {peak:.1f} GFLOP/s")
    t_start = time.perf_counter()
    checks, records = {}, []
    print(HEADER)
    for model in MODELS:
        pair = Pair(model)
        checks[model] = pair.check()
        records += bench_model(pair, rounds, peak)
    info["equality_checks"] = checks
    info["timing_s"] = time.perf_counter() - t_start
    lines = targets(records)
    print("\n".join(lines))
    extras = {}
    if not quick:
        from benchmarks.profile_ops import format_profile, profile_step

        extras["profile"] = [profile_step("medium", 64), profile_step("deep", 64)]
        for p in extras["profile"]:
            print(format_profile(p))
        extras["fe_vs_finetune"] = fe_vs_finetune()
        for r in extras["fe_vs_finetune"]:
            print(f"feature extraction vs full fine-tuning, {r['model']}: {r['feature_extraction_s']:.2f} s vs "
                  f"{r['full_finetune_s']:.2f} s -> {r['ratio']:.1f}x cheaper (target >= 20)")
        extras["extract_memory"] = [subprocess_json("benchmarks.extract_memory", str(n), "medium")
                                    for n in (10_000, 100_000)]
        for r in extras["extract_memory"]:
            print(f"extract_features over {r['images']:,} images ({r['model']}): {r['seconds']:.2f} s, "
                  f"{r['images_per_s']:,.0f} img/s, peak RSS {r['peak_rss_mb']:.0f} MB = start "
                  f"{r['start_rss_mb']:.0f} + input {r['input_mb']:.0f} + output {r['output_mb']:.0f} + "
                  f"working {r['working_mb']:.0f} MB")
        extras["threads"] = [subprocess_json("benchmarks.threads", env={"OPENBLAS_NUM_THREADS": str(t),
                                                                        "OMP_NUM_THREADS": str(t)})
                             for t in (1, 2, 1, 2)]
        for r in extras["threads"]:
            print(f"BLAS threads {r['threads']}: " + ", ".join(
                f"{k} {v['wall_s'] * 1e3:.2f} ms wall / {v['cpu_s'] * 1e3:.2f} ms cpu" for k, v in r["steps"].items())
                + f"; SGEMM 1024 {r['sgemm_gflops']:.0f} GFLOP/s")
    info["total_s"] = time.perf_counter() - t_start
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(records, indent=1) + "\n")
    (RESULTS / "latest_meta.json").write_text(json.dumps({**info, "targets": lines, **extras}, indent=1) + "\n")
    table = "\n".join(_row(r) for r in records)
    summary = (f"Run of {info['date'][:10]} ({info['date']}): {info['cpu']}, {info['cores']} cores; Python "
               f"{info['python']}, numpy {info['numpy']} ({info['numpy_blas']}, "
               f"OpenBLAS kernel {info['openblas_kernel']}), torch {info['torch']}; {THREADS} BLAS thread(s), "
               f"torch threads {info['torch_threads']}; numpy SGEMM peak "
               f"{peak:.1f} GFLOP/s. Medians of {rounds} interleaved samples, wall time.\n\n"
               f"{HEADER}\n{table}\n\nFull step over head-only step (how much freezing saves):\n\n"
               f"{head_table(records)}\n\nTargets:\n\n" + "\n".join(f"- {t}" for t in lines))
    if extras:
        summary += "\n\nExtras:\n\n" + "\n".join(
            [f"- FE vs full fine-tuning, {r['model']} ({r['samples']} images, {r['epochs']} epochs): "
             f"{r['feature_extraction_s']:.2f} s vs {r['full_finetune_s']:.2f} s, {r['ratio']:.0f}x cheaper"
             for r in extras["fe_vs_finetune"]]
            + [f"- extract_features over {r['images']:,} images ({r['model']}): {r['images_per_s']:,.0f} img/s, "
               f"peak RSS {r['peak_rss_mb']:.0f} MB (input {r['input_mb']:.0f} MB, output {r['output_mb']:.0f} MB, "
               f"working {r['working_mb']:.0f} MB)" for r in extras["extract_memory"]])
    write_readme(summary)
    print(f"wrote {RESULTS / 'latest.json'} ({len(records)} records) in {info['total_s']:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
