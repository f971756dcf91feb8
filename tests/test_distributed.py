"""Data-parallel training with torchrun (gloo, on this CPU): two processes sharing a global batch
train the model one process trains on that batch, a checkpoint resumes under another number of
processes, only rank 0 writes, and every socket the launch opens is on the loopback interface.

Tolerance. Every run here is float32 with one thread per process. Splitting a step's batch into
micro-batches (or across processes) changes only the order in which the same terms are summed:
the loss mean and the gradient become sums of per-micro-batch means, and gloo adds the two
processes' gradients. Each reordering perturbs a sum of n float32 terms by at most about
n·2^-24 of its magnitude, and training carries such perturbations forward. So the reference for
"the same loss curve" is measured, not guessed: the largest difference between two *single-process*
runs that differ only in that order (one batch of B against two micro-batches of B/2) bounds what
reordering alone does; the two-process run must stay within 4 times that (and never more than
1e-4 nats). The measured figures are printed.
"""

import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

SCRIPT = """\
import json, os, sys
import numpy as np, torch
from middleground.gpt.model import GPTConfig
from middleground.gpt.train import TrainConfig, fit
from middleground.sources.hmm import MarkovChain

torch.set_num_threads(1)
out, result, batch, accumulation, stop, resume = sys.argv[1:7]
dropout = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
tokens = MarkovChain.random(12, 1, 0.3, 0).sample(8000, np.random.default_rng(0))  # learnable
cfg = GPTConfig(vocab_size=12, block_size=16, n_layer=2, n_head=2, n_embd=32, dropout=dropout)
tc = TrainConfig(max_iters=40, batch_size=int(batch), gradient_accumulation_steps=int(accumulation),
                 eval_interval=5, eval_iters=4, warmup_iters=4, seed=5, learning_rate=3e-3)
run = fit(cfg, tc, tokens[:6000], tokens[6000:], out_dir=out if out != "-" else None,
          stop_after=int(stop) if stop != "-" else None, resume=resume == "resume")
if os.environ.get("RANK", "0") == "0":
    Path = __import__("pathlib").Path
    Path(result).write_text(json.dumps({"history": run.history, "segments": run.segments}))
"""

B = 8

# One SGD step (learning rate 1, no momentum, no clipping) exposes the gradient itself: AdamW would
# hide a wrong scale (it divides by the gradient's own size), and a summed instead of averaged
# all-reduce would go unseen in the loss curves.
GRADIENT_SCRIPT = """\
import json, sys
import numpy as np, torch
from middleground.gpt import distributed
from middleground.gpt.core import accumulate, random_batch
from middleground.gpt.device import pick
from middleground.gpt.model import GPT, GPTConfig
from middleground.sources.hmm import MarkovChain

torch.set_num_threads(1)
result, accumulation = sys.argv[1], int(sys.argv[2])
tokens = torch.as_tensor(MarkovChain.random(12, 1, 0.3, 0).sample(4000, np.random.default_rng(0)))
world = distributed.join("cpu")
torch.manual_seed(0)
model = GPT(GPTConfig(vocab_size=12, block_size=16, n_layer=1, n_head=2, n_embd=16))
before = [p.detach().clone() for p in model.parameters()]
wrapped = torch.nn.parallel.DistributedDataParallel(model) if world.size > 1 else model
opt = torch.optim.SGD(model.parameters(), lr=1.0)
x, y = random_batch(tokens, 16, 8, torch.Generator().manual_seed(1))
accumulate(wrapped, opt, distributed.shard(x, y, accumulation, world), 1.0, pick("cpu"))
if world.main:
    step = [(b - p.detach()).flatten().tolist() for b, p in zip(before, model.parameters())]
    open(result, "w").write(json.dumps(step))
distributed.leave(world)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo",
            "MASTER_ADDR": "127.0.0.1"}


def _single(tmp_path, name, batch, accumulation, out="-", stop="-", resume="-"):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    result = tmp_path / f"{name}.json"
    subprocess.run([sys.executable, str(script), str(out), str(result), str(batch), str(accumulation),
                    str(stop), resume], check=True, env=_env(), timeout=300)
    return json.loads(result.read_text())


def _loopback_namespace() -> list[str] | None:
    """A command prefix that runs a command in a network namespace of its own whose only
    interface is the loopback, or None where this machine cannot make one (needs unshare, ip and
    the right to create namespaces). torch's TCPStore, which torchrun's agent starts, binds the
    wildcard address whatever host it is given (torch offers no option to confine it), so the
    launch is confined by the namespace instead, and the test checks that."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return None
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


def _ip(hex_address: str) -> ipaddress._BaseAddress:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw[::-1])
    return ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))


def _namespace_view(pid: int):
    """The interfaces of ``pid``'s network namespace, and its TCP sockets as (listening, local
    address, remote address)."""
    net = Path(f"/proc/{pid}/net")
    interfaces = {line.split(":")[0].strip() for line in (net / "dev").read_text().splitlines()[2:]}
    sockets = []
    for table in ("tcp", "tcp6"):
        for line in (net / table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            sockets.append((state == "0A", _ip(local.split(":")[0]), _ip(remote.split(":")[0])))
    return interfaces, sockets


def _loopback(address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _torchrun(tmp_path, name, nproc, batch, accumulation, out="-", stop="-", resume="-",
              watch_sockets=False, dropout="0.0"):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    result = tmp_path / f"{name}.json"
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", str(script), str(out),
           str(result), str(batch), str(accumulation), str(stop), resume, dropout]
    prefix = _loopback_namespace() if watch_sockets else None
    proc = subprocess.Popen((prefix or []) + cmd, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen: list = []
    if prefix is not None:
        own = os.readlink("/proc/self/ns/net")

        def watch():
            while proc.poll() is None:
                try:  # from the moment unshare has moved the launch into its own namespace
                    if os.readlink(f"/proc/{proc.pid}/ns/net") != own:
                        seen.append(_namespace_view(proc.pid))
                except OSError:  # the launch ended meanwhile
                    break
                time.sleep(0.05)
        watcher = threading.Thread(target=watch)
        watcher.start()
    output, _ = proc.communicate(timeout=300)
    if prefix is not None:
        watcher.join()
    assert proc.returncode == 0, output[-3000:]
    return json.loads(result.read_text()), (seen if prefix is not None else None)


def _max_diff(a, b):
    assert [r["step"] for r in a["history"]] == [r["step"] for r in b["history"]]
    return max(abs(ra[k] - rb[k]) for ra, rb in zip(a["history"], b["history"])
               for k in ("train_loss", "val_loss"))


@pytest.fixture(scope="module")
def single_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("single")
    return {"whole": _single(tmp, "whole", B, 1), "split": _single(tmp, "split", B // 2, 2)}


def test_two_processes_train_the_model_one_process_trains_on_the_same_batch(tmp_path, single_runs):
    ddp, sockets = _torchrun(tmp_path, "ddp", 2, B // 2, 2, watch_sockets=True)
    reorder = _max_diff(single_runs["whole"], single_runs["split"])
    gap = _max_diff(ddp, single_runs["whole"])
    print(f"max |loss difference|: reordering alone {reorder:.2e} nats; 2 processes vs 1 {gap:.2e} nats")
    assert gap <= min(max(4 * reorder, 1e-6), 1e-4), (gap, reorder)
    # the loss moved, so the comparison says something: training did happen
    assert ddp["history"][-1]["val_loss"] < ddp["history"][0]["val_loss"] - 0.01
    # every socket of the launch (torchrun's store, gloo) in a namespace that has only loopback
    if sockets is None:
        pytest.skip("cannot create a network namespace here; the loss curves were checked")
    assert sockets, "the launch's network namespace was never seen"
    assert all(interfaces == {"lo"} for interfaces, _ in sockets)
    connections = [(lo, re) for _, view in sockets for listening, lo, re in view if not listening]
    assert connections, "no connection of the launch was seen"
    assert all(_loopback(lo) and _loopback(re) for lo, re in connections)


def test_two_processes_compute_the_gradient_of_the_whole_batch(tmp_path):
    """The step of 2 processes (2 micro-batches of 4 windows, one each) equals one process's
    gradient step on all 8 windows: to float32 rounding, not to a factor of 2."""
    script = tmp_path / "gradient.py"
    script.write_text(GRADIENT_SCRIPT)
    one = tmp_path / "one.json"
    subprocess.run([sys.executable, str(script), str(one), "1"], check=True, env=_env(), timeout=300)
    two = tmp_path / "two.json"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", str(script), str(two), "2"]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    a = [v for p in json.loads(one.read_text()) for v in p]
    b = [v for p in json.loads(two.read_text()) for v in p]
    scale = max(abs(v) for v in a)
    worst = max(abs(u - v) for u, v in zip(a, b))
    print(f"largest gradient entry {scale:.3e}; largest difference 2 processes vs 1 {worst:.2e}")
    assert scale > 1e-3 and worst <= 1e-5 * scale


def test_with_dropout_a_resume_under_the_same_processes_continues_exactly(tmp_path):
    """Each rank's dropout stream is in the checkpoint: stopping and resuming a 2-process run
    changes nothing, to the bit (gloo's sum of two gradients is deterministic)."""
    whole, _ = _torchrun(tmp_path, "whole", 2, B // 2, 2, dropout="0.1")
    out = tmp_path / "run"
    _torchrun(tmp_path, "first", 2, B // 2, 2, out=out, stop=20, dropout="0.1")
    resumed, _ = _torchrun(tmp_path, "resumed", 2, B // 2, 2, out=out, resume="resume", dropout="0.1")
    assert resumed["history"] == whole["history"]


def test_a_checkpoint_resumes_under_another_number_of_processes(tmp_path, single_runs):
    out = tmp_path / "run"
    _torchrun(tmp_path, "first", 2, B // 2, 2, out=out, stop=20)
    assert sorted(p.name for p in out.iterdir()) == [".lock", "ckpt.pt"]  # rank 0 alone wrote
    resumed = _single(tmp_path, "resumed", B // 2, 2, out=out, resume="resume")
    reorder = _max_diff(single_runs["whole"], single_runs["split"])
    assert _max_diff(resumed, single_runs["whole"]) <= min(max(4 * reorder, 1e-6), 1e-4)
    assert [(s["start_iter"], s["processes"]) for s in resumed["segments"]] == [(0, 2), (20, 1)]


def test_accumulation_steps_must_divide_among_the_processes(tmp_path):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", str(script), "-",
           str(tmp_path / "x.json"), str(B), "1", "-", "-"]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "gradient_accumulation_steps (1) must be a multiple of the number of processes (2)" in (
        proc.stdout + proc.stderr)


def test_processes_sharing_a_node_take_their_share_of_the_cores(monkeypatch):
    from middleground.gpt import distributed

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    assert distributed.threads_per_process() == cores
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(2 * cores))
    assert distributed.threads_per_process() == 1  # never zero
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert distributed.threads_per_process() == max(1, cores // 2)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="LOCAL_WORLD_SIZE must be a non-negative integer"):
        distributed.threads_per_process()


_TORCH_AND_NUMPY_ONLY = """\
import importlib.util, sys
absent = [m for m in ("tqdm", "scipy", "altair", "yaml", "papermill", "dask", "hypothesis", "pytest")
          if importlib.util.find_spec(m) is not None]
assert absent == [], f"the simulated machine has {absent}"
import numpy as np, torch
from middleground.gpt import train
from middleground.gpt.model import GPTConfig
torch.set_num_threads(1)
tokens = np.arange(2000) % 7
run = train.fit(GPTConfig(vocab_size=7, block_size=8, n_layer=1, n_head=1, n_embd=8),
                train.TrainConfig(max_iters=3, batch_size=4, eval_interval=3, eval_iters=1, warmup_iters=1),
                tokens[:1500], tokens[1500:], progress=True, out_dir=sys.argv[1])
print("trained", run.history[-1]["step"])
"""


def _site_with_only(folder: Path, roots=("torch", "numpy")) -> Path:
    """A site folder holding only ``roots`` and what they require (links into this environment),
    as on a machine where nothing else was installed."""
    import re
    from importlib import metadata

    site_packages = Path(np.__file__).parents[1]
    modules: dict[str, list[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for d in dists:
            modules.setdefault(d.lower().replace("_", "-"), []).append(module)
    wanted, todo = set(), list(roots)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if not name or name in wanted:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:  # an optional or platform-only requirement
            continue
        wanted.add(name)
        todo += [re.split(r"[\s;<>=!~\[(]", r.strip(), maxsplit=1)[0] for r in dist.requires or []
                 if "extra ==" not in r]
    site = folder / "site"
    site.mkdir()
    for name in wanted:
        for module in modules.get(name, []):
            for entry in [site_packages / module, site_packages / f"{module}.py",
                          site_packages / f"{module}.libs", *site_packages.glob(f"{module}.cpython*")]:
                if entry.exists() and not (site / entry.name).exists():
                    (site / entry.name).symlink_to(entry)
    return site


def test_the_training_layer_needs_only_torch_and_numpy(tmp_path):
    """A lent GPU machine has its own Python and torch, and none of the book's other packages:
    the trainer (progress bar, checkpoints, distributed) must import and train there. Simulated
    with ``python -S`` and a site folder of torch, numpy and their requirements only."""
    import middleground

    site = _site_with_only(tmp_path)
    src = Path(middleground.__file__).parents[1]
    env = {**_env(), "PYTHONPATH": os.pathsep.join([str(site), str(src)])}
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-S", "-c", _TORCH_AND_NUMPY_ONLY, str(out)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "trained 3" in proc.stdout and (out / "ckpt.pt").is_file()


CLI_FLAGS = ["--device=cpu", "--n_layer=1", "--n_head=2", "--n_embd=16", "--block_size=32",
             "--dropout=0.0", "--batch_size=4", "--gradient_accumulation_steps=2", "--max_iters=6",
             "--eval_interval=3", "--eval_iters=2", "--warmup_iters=1", "--seed=3"]


def _cli(prefix, tmp_path, name, *extra):
    out_dir, summary = tmp_path / f"{name}-ckpt", tmp_path / f"{name}.json"
    cmd = prefix + ["-m", "middleground.gpt.train", *CLI_FLAGS, f"--out_dir={out_dir}",
                    f"--json={summary}", *extra]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out_dir, json.loads(summary.read_text()), proc


def test_the_command_line_trainer_runs_under_torchrun_and_resumes_alone(tmp_path):
    """The README's command: ``torchrun --nproc_per_node=2 -m middleground.gpt.train ...`` on Tiny
    Shakespeare. Rank 0 alone writes the checkpoint, the ``--json`` summary and holds the
    ``--out_dir`` lock; the summary records two processes; its losses equal a one-process run of
    the same flags to the reordering tolerance of this module's note (1e-4 nats); and the
    two-process checkpoint resumes in one process."""
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
              "--master_addr=127.0.0.1", f"--master_port={_free_port()}"]
    out_dir, two, proc = _cli(launch, tmp_path, "two")
    _, one, _ = _cli([sys.executable], tmp_path, "one")
    assert [s["processes"] for s in two["segments"]] == [2] and one["segments"][0]["processes"] == 1
    for key in ("train_loss", "val_loss"):
        assert abs(two["final"][key] - one["final"][key]) < 1e-4, (two["final"], one["final"])
    assert sorted(p.name for p in out_dir.iterdir()) == [".lock", "ckpt.pt"]  # no second writer
    assert "Traceback" not in proc.stderr
    # continue the two-process checkpoint in one process, to iteration 8
    _, resumed, _ = _cli([sys.executable], tmp_path, "two", "--resume", "--max_iters=8",
                         "--allow_changes")
    assert resumed["iters"] == 8 and [s["processes"] for s in resumed["segments"]] == [2, 1]
