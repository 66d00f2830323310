"""Benchmark tinygrad_scalar against the reference, micrograd 0.1.0 (PyPI).

Both libraries run side by side in one process and the results are printed as
RATIOS, because the machine is shared and absolute times are noisy.

Cases:
  engine    forward, backward and both of sum(a*b for a, b in zip(A, B)) over
            100,000 pairs of leaves (leaf creation not timed). Gradients of a
            few leaves are checked to agree between the two libraries.
  memory    bytes allocated (tracemalloc, still alive after the build) by
            building that same graph, leaves included, divided by the number
            of Value objects each library created (leaves + interior nodes).
  training  one step of micrograd's demo: MLP(2, [16, 16, 1]) on 100 two-moons
            points, hinge loss + 1e-4 * sum(p*p), forward + backward + SGD, by
            four contenders taking turns step by step: micrograd, this library
            without jit, the same step by tinygrad_scalar.jit_loss (traced
            once before timing), and the floor: the step written by hand in
            plain float Python. Before timing, the floor's and the jit's loss
            and 337 gradients are checked against the eager step's on the same
            weights (to 1e-12 of the largest gradient).
  jit cost  the jit's first call on the demo step (trace + compile), counted in
            eager forward+backward passes of the same step; the tracemalloc peak,
            and how much is still allocated afterwards; RSS in a fresh process.
  main job  python3 tinygrad_scalar.py's training (train_moons), with jit and
            without, end to end, alternating in this process.
  --big     jit_loss on 2,000 and 10,000-point batches, and the eager step for
            scale, each in a fresh process: first-call time and peak RSS.

The garbage collector stays at its default settings while timing; gc.collect()
runs before every timed run, and the contenders take turns run by run.
Each timed run happens in a thread with a big stack and a high recursion
limit, because micrograd's backward() is recursive (graph ~200,000 deep).

Run:   python benchmarks/bench.py [--quick] [--repeat N] [--big]
The first run creates benchmarks/.venv, installs micrograd==0.1.0 into it and
re-runs itself with that venv's python. tinygrad_scalar is imported from the
repo root. Exit code is 0 even when a goal is missed; non-zero only on error.
"""
import argparse, collections, gc, math, os, platform, random, statistics, subprocess, sys
import threading, time, tracemalloc, types
from importlib import metadata
from itertools import compress
from operator import mul
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
INNER = "TINYGRAD_SCALAR_BENCH_INNER"   # set in the re-executed (inner) run
STACK_BYTES = 512 * 1024 * 1024
CHECK_AT = (0, 1, 2, -1)                # leaves whose gradients are compared

# One line of the results table: two measurements (first | second, or None), the
# result a goal reads (a ratio, or a measurement when first and second are None),
# what that result is ("mg/ours", "s", ...), and the goal as (">=" or "<=", number).
Row = collections.namedtuple("Row", "case first second result of goal", defaults=(None,))


def ensure_venv():
    """Create benchmarks/.venv with micrograd and re-run this script in it."""
    if os.environ.get(INNER) == "1":
        return
    bindir = "Scripts" if os.name == "nt" else "bin"
    py = str(VENV / bindir / ("python.exe" if os.name == "nt" else "python"))
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = "import importlib.metadata as m; assert m.version('micrograd') == '0.1.0'"
    if subprocess.run([py, "-c", probe], capture_output=True).returncode != 0:
        print("installing micrograd==0.1.0 into", VENV, flush=True)
        r = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "micrograd==0.1.0"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("pip install micrograd failed:\n" + r.stdout + r.stderr)
    env = dict(os.environ, **{INNER: "1"})
    sys.exit(subprocess.run([py, str(Path(__file__).resolve()), *sys.argv[1:]], env=env).returncode)


def in_big_thread(fn, *args):
    """Run fn(*args) in a thread with a 512 MiB stack and recursion limit 10**7."""
    result = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as e:  # re-raised in the caller's thread
            result["error"] = e

    old_limit, old_size = sys.getrecursionlimit(), threading.stack_size(STACK_BYTES)
    sys.setrecursionlimit(10**7)
    try:
        t = threading.Thread(target=target)
        t.start()
        t.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_size)
    if "error" in result:
        raise result["error"]
    return result["value"]


# ---------------------------------------------------------------- (a) engine
def engine_run(Value, xs, ys):
    A = [Value(x) for x in xs]
    B = [Value(y) for y in ys]
    gc.collect()
    t0 = time.perf_counter()
    out = sum(a * b for a, b in zip(A, B))
    t1 = time.perf_counter()
    out.backward()
    t2 = time.perf_counter()
    grads = [(A[i].grad, B[i].grad) for i in CHECK_AT]
    return t1 - t0, t2 - t1, grads, out.data


def case_engine(libs, n_pairs, repeat):
    rng = random.Random(42)
    xs = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    ys = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    fwd = {name: [] for name in libs}
    bwd = {name: [] for name in libs}
    last = {}
    for r in range(repeat):
        order = list(libs) if r % 2 == 0 else list(libs)[::-1]
        for name in order:
            f, b, grads, value = in_big_thread(engine_run, libs[name].Value, xs, ys)
            fwd[name].append(f)
            bwd[name].append(b)
            last[name] = (grads, value)
    (g_mg, v_mg), (g_ts, v_ts) = last["micrograd"], last["tinygrad_scalar"]
    assert math.isclose(v_mg, v_ts, rel_tol=1e-9), (v_mg, v_ts)
    for (ma, mb), (ta, tb), i in zip(g_mg, g_ts, CHECK_AT):
        assert math.isclose(ma, ta) and math.isclose(mb, tb), (i, ma, ta, mb, tb)
        assert math.isclose(ma, ys[i]) and math.isclose(mb, xs[i]), (i, ma, mb)
    med = lambda d, k: statistics.median(d[k]) * 1e3
    tot = {k: [f + b for f, b in zip(fwd[k], bwd[k])] for k in libs}
    rows = []
    for case, d, goal in ((f"engine forward, {n_pairs:,} pairs, ms", fwd, None),
                          ("engine backward, ms", bwd, None),
                          ("engine forward+backward, ms", tot, (">=", 2.8))):
        mg_ms, ts_ms = med(d, "micrograd"), med(d, "tinygrad_scalar")
        rows.append(Row(case + ": micrograd | ours", mg_ms, ts_ms, mg_ms / ts_ms, "mg/ours", goal))
    return rows


# ---------------------------------------------------------------- (b) memory
def count_instances(cls):
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def graph_memory(Value, xs, ys):
    """Bytes still allocated after building the graph, and the Values created."""
    A, B = [None] * len(xs), [None] * len(ys)  # list storage itself not traced
    gc.collect()
    before = count_instances(Value)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(len(xs)):
        A[i], B[i] = Value(xs[i]), Value(ys[i])
    leaves_bytes = tracemalloc.get_traced_memory()[0] - base
    out = sum(a * b for a, b in zip(A, B))
    total_bytes = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    nodes = count_instances(Value) - before
    del out
    return total_bytes, leaves_bytes, nodes


def case_memory(libs, n_pairs):
    rng = random.Random(42)
    xs = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    ys = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    per_node = {}
    for name, lib in libs.items():
        total, leaves, nodes = graph_memory(lib.Value, xs, ys)
        per_node[name] = total / nodes
        print(f"  memory {name:16s} {total / 2**20:7.1f} MiB total for {nodes:,} nodes "
              f"(leaves {leaves / (2 * n_pairs):.0f} B each, interior "
              f"{(total - leaves) / max(1, nodes - 2 * n_pairs):.0f} B each)")
        gc.collect()
    mg_b, ts_b = per_node["micrograd"], per_node["tinygrad_scalar"]
    return [Row("memory per node, bytes: micrograd | ours", mg_b, ts_b, ts_b / mg_b, "ours/mg", ("<=", 0.4))]


# -------------------------------------------------------------- (c) training
def make_moons(n=100, noise=0.1, seed=0):
    """Two interleaving half circles with gaussian noise; labels -1 / +1."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n // 2):
        t = math.pi * i / (n // 2 - 1)
        X.append([math.cos(t) + rng.gauss(0, noise), math.sin(t) + rng.gauss(0, noise)])
        y.append(-1)
        X.append([1 - math.cos(t) + rng.gauss(0, noise), 0.5 - math.sin(t) + rng.gauss(0, noise)])
        y.append(1)
    return X, y


def micrograd_step(model, Value, X, y):
    """micrograd's own demo step, verbatim."""
    gc.collect()
    t0 = time.perf_counter()
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum((p*p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    model.zero_grad(); total_loss.backward()
    for p in model.parameters(): p.data -= 0.1 * p.grad
    return time.perf_counter() - t0, total_loss.data


def ours_step(ts, model, opt, X, y):
    vsum = getattr(ts, "vsum", sum)
    gc.collect()
    t0 = time.perf_counter()
    scores = [model(x) for x in X]
    loss = ts.hinge_loss(scores, y) + 1e-4 * vsum(p * p for p in model.parameters())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - t0, loss.data


def jit_step(step, opt, X, y):
    """The demo step by jitted code (the data as arguments): loss and gradients, then SGD."""
    gc.collect()
    t0 = time.perf_counter()
    loss = step(X, y)
    opt.step()
    return time.perf_counter() - t0, loss


# ----------------------------------------------------------------- the floor
# The demo step written by hand in plain float Python: what any generated code
# for it has to beat. The model is MLP(2, [16, 16, 1]) (relu on the hidden
# layers, a linear output), held as P = [W1, B1, W2, B2, W3, b3]: W1 is 16 rows
# of 2 weights, W2 16 rows of 16, W3 one row of 16. Activations are kept per
# unit over the whole batch (H1[k] is unit k's outputs for every example).
# Everything is computed except exact zeros: examples whose hinge is flat
# (margin <= 0) and dead relus pass no gradient, so they are left out.

def floor_params(model):
    """The floats of a tinygrad_scalar MLP(2, [16, 16, 1]) in the floor's layout.

    Read from model.parameters(), which lists each neuron's weights, then its bias."""
    data = [p.data for p in model.parameters()]
    assert len(data) == 16 * 3 + 16 * 17 + 17, len(data)
    l1, l2, out = data[:48], data[48:320], data[320:]
    return [[tuple(l1[i:i + 2]) for i in range(0, 48, 3)], l1[2::3],
            [l2[i:i + 16] for i in range(0, 272, 17)], l2[16::17], out[:16], out[16]]


def floor_flat(G):
    """The floor's gradients in model.parameters() order (per neuron: weights, then bias)."""
    gW1, gB1, gW2, gB2, gW3, gb3 = G
    return ([g for w, b in zip(gW1, gB1) for g in (*w, b)]
            + [g for w, b in zip(gW2, gB2) for g in (*w, b)] + [*gW3, gb3])


def floor_step(P, X0, X1, Y, lr):
    """One step: loss mean(relu(1 - y*s)) + 1e-4*sum(p*p), its full gradient G, then P -= lr*G.

    X0, X1 are the inputs' two coordinates, Y the labels (+-1.0). Returns (loss, G).
    """
    W1, B1, W2, B2, W3, b3 = P
    inv = 1.0 / len(Y)
    # forward: layer 1 (2 inputs) and layer 2 with relu, then the linear score
    H1 = [[z if (z := w0 * x0 + w1 * x1 + b) > 0.0 else 0.0 for x0, x1 in zip(X0, X1)]
          for (w0, w1), b in zip(W1, B1)]
    H2 = [[z if (z := sum(map(mul, w, h)) + b) > 0.0 else 0.0 for h in zip(*H1)]
          for w, b in zip(W2, B2)]
    S = [sum(map(mul, W3, h)) + b3 for h in zip(*H2)]
    M = [1.0 - y * s for y, s in zip(Y, S)]                  # hinge margins
    on = [m > 0.0 for m in M]                                # the examples that pass a gradient
    data_loss = sum(compress(M, on)) * inv
    # backward over those examples only: d loss / d score = -y/n
    DS = [-y * inv for y in compress(Y, on)]
    H1 = [list(compress(h, on)) for h in H1]
    H2 = [list(compress(h, on)) for h in H2]
    gW3 = [sum(map(mul, DS, h)) for h in H2]
    gb3 = sum(DS)
    D2 = [[d * w if h > 0.0 else 0.0 for d, h in zip(DS, h2)] for w, h2 in zip(W3, H2)]
    gB2 = [sum(d) for d in D2]
    gW2 = []
    for d, h2 in zip(D2, H2):                                # unit j's weights: its live examples
        live = [h > 0.0 for h in h2]
        d = list(compress(d, live))
        gW2.append([sum(map(mul, d, compress(h, live))) for h in H1])
    D1 = [[sum(map(mul, d, w)) if h > 0.0 else 0.0 for d, h in zip(zip(*D2), h1)]
          for w, h1 in zip(zip(*W2), H1)]                    # (W2^T dz2) where the relu is on
    gB1 = [sum(d) for d in D1]
    X0, X1 = list(compress(X0, on)), list(compress(X1, on))
    gW1 = [(sum(map(mul, d, X0)), sum(map(mul, d, X1))) for d in D1]
    # the regulariser 1e-4 * sum(p*p) and its gradient 2e-4 * p, then SGD
    reg = (sum(w0 * w0 + w1 * w1 for w0, w1 in W1) + sum(map(mul, B1, B1))
           + sum(sum(map(mul, w, w)) for w in W2) + sum(map(mul, B2, B2))
           + sum(map(mul, W3, W3)) + b3 * b3)
    c = 2e-4
    G = [[(g0 + c * w0, g1 + c * w1) for (g0, g1), (w0, w1) in zip(gW1, W1)],
         [g + c * w for g, w in zip(gB1, B1)],
         [[g + c * w for g, w in zip(gs, ws)] for gs, ws in zip(gW2, W2)],
         [g + c * w for g, w in zip(gB2, B2)],
         [g + c * w for g, w in zip(gW3, W3)],
         gb3 + c * b3]
    P[:] = [[(w0 - lr * g0, w1 - lr * g1) for (w0, w1), (g0, g1) in zip(W1, G[0])],
            [w - lr * g for w, g in zip(B1, G[1])],
            [[w - lr * g for w, g in zip(ws, gs)] for ws, gs in zip(W2, G[2])],
            [w - lr * g for w, g in zip(B2, G[3])],
            [w - lr * g for w, g in zip(W3, G[4])],
            b3 - lr * G[5]]
    return data_loss + 1e-4 * reg, G


def timed_floor(P, X0, X1, Y):
    gc.collect()
    t0 = time.perf_counter()
    loss, _ = floor_step(P, X0, X1, Y, 0.1)
    return time.perf_counter() - t0, loss


def demo_loss(ts, model, params, X, y):
    """The demo's loss in tinygrad_scalar: hinge loss + 1e-4 * sum(p*p)."""
    return ts.hinge_loss([model(x) for x in X], y) + 1e-4 * ts.vsum(p * p for p in params)


def demo_model(ts):
    """The model the eager step, the jit and the floor all start from (same weights)."""
    return ts.MLP(2, [16, 16, 1], activation="relu", seed=1)


def nodes_built(root, leaves):
    """How many Values the graph under root holds besides leaves (the parameters)."""
    seen, stack, skip = {id(root)}, [root], {id(p) for p in leaves}
    while stack:
        for parent in stack.pop()._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen - skip)


def assert_same(what, loss, grads, ref_loss, ref_grads, rel=1e-12):
    """loss and every gradient equal to the reference, to rel of the largest gradient."""
    scale = max(abs(g) for g in ref_grads)
    assert len(grads) == len(ref_grads), (what, len(grads), len(ref_grads))
    assert math.isclose(loss, ref_loss, rel_tol=rel), (what, loss, ref_loss)
    worst = max(abs(g - r) for g, r in zip(grads, ref_grads)) / scale
    assert worst <= rel, f"{what}: a gradient differs from eager by {worst:.2g} of the largest"
    return worst


def case_training(libs, warm, steps, cost):
    """micrograd, this library without and with jit, and the floor, alternating step by step."""
    X, y = make_moons()
    X0, X1, Y = [x[0] for x in X], [x[1] for x in X], [float(v) for v in y]
    mg, ts = libs["micrograd"], libs["tinygrad_scalar"]
    random.seed(1337)  # micrograd's MLP draws weights from the global random
    mg_model = mg.MLP(2, [16, 16, 1])
    ts_model = demo_model(ts)
    opt = ts.SGD(ts_model.parameters(), lr=0.1)

    # The eager step's loss and gradients: the reference the floor and the jit must match.
    ref = demo_model(ts)
    ref_loss = demo_loss(ts, ref, ref.parameters(), X, y)
    ref_loss.backward()
    ref_grads = [p.grad for p in ref.parameters()]
    nodes = nodes_built(ref_loss, ref.parameters())
    P = floor_params(ref)
    loss, G = floor_step(list(P), X0, X1, Y, 0.1)
    worst = assert_same("floor", loss, floor_flat(G), ref_loss.data, ref_grads)
    print(f"  floor = eager on the same weights: loss {loss:.6f}, {len(ref_grads)} gradients "
          f"(worst difference {worst:.1g} of the largest)")

    jit_model = demo_model(ts)
    params = jit_model.parameters()
    jit_opt = ts.SGD(params, lr=0.1)
    step = ts.jit_loss(lambda X, y: demo_loss(ts, jit_model, params, X, y), params)
    gc.collect()
    t0 = time.perf_counter()
    loss = step(X, y)                       # the trace: generate and compile the code once
    trace_s = time.perf_counter() - t0
    worst = assert_same("jit", loss, [p.grad for p in params], ref_loss.data, ref_grads)
    print(f"  jit = eager on the same weights (worst difference {worst:.1g} of the largest)")
    print(f"  jit trace + code generation + compile: {trace_s:.2f} s, "
          f"{len(step.source.splitlines()):,} lines of generated Python; the eager step builds "
          f"{nodes:,} nodes")
    del ref, ref_loss

    run = {"micrograd": lambda: in_big_thread(micrograd_step, mg_model, mg.Value, X, y),
           "tinygrad_scalar": lambda: in_big_thread(ours_step, ts, ts_model, opt, X, y),
           "jit": lambda: in_big_thread(jit_step, step, jit_opt, X, y),
           "floor": lambda: in_big_thread(timed_floor, P, X0, X1, Y)}
    times, losses = {k: [] for k in run}, {k: [] for k in run}
    for i in range(warm + steps):
        for name in (list(run) if i % 2 == 0 else list(run)[::-1]):
            t, loss = run[name]()
            losses[name].append(loss)
            if i >= warm:
                times[name].append(t)
    for name in run:
        assert all(math.isfinite(v) for v in losses[name]), (name, losses[name])
        print(f"  training {name:16s} loss {losses[name][0]:.4f} -> {losses[name][-1]:.4f}")
    for name in ("tinygrad_scalar", "jit"):   # the same weights all along: the same losses
        for a, b in zip(losses[name], losses["floor"]):
            assert math.isclose(a, b, rel_tol=1e-9), (f"{name} and the floor part ways", a, b)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    cost["trace_s"], cost["eager_ms"] = trace_s, med["tinygrad_scalar"]
    return [Row("training step, ms: micrograd | ours", med["micrograd"], med["tinygrad_scalar"],
                med["micrograd"] / med["tinygrad_scalar"], "mg/ours", (">=", 30.0)),
            Row("training step, ms: micrograd | jit", med["micrograd"], med["jit"],
                med["micrograd"] / med["jit"], "mg/jit", (">=", 300.0)),
            Row("training step, ms: ours no jit | jit", med["tinygrad_scalar"], med["jit"],
                med["tinygrad_scalar"] / med["jit"], "nojit/jit", (">=", 5.0)),
            Row("training step, ms: floor | jit", med["floor"], med["jit"],
                med["jit"] / med["floor"], "jit/floor", ("<=", 1.10))]


# --------------------------------------------------------------- jit costs
def case_jit_cost(ts, cost):
    """The demo step's first jitted call: its time (measured by case_training) and its memory."""
    X, y = make_moons()
    model = demo_model(ts)
    params = model.parameters()
    nodes = nodes_built(demo_loss(ts, model, params, X, y), params)
    step = ts.jit_loss(lambda X, y: demo_loss(ts, model, params, X, y), params)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - base     # with the step (its code) still alive
    source_chars = len(step.source)
    del step
    gc.collect()
    left = tracemalloc.get_traced_memory()[0] - base     # after the step is dropped too
    tracemalloc.stop()
    print(f"  jit first call: peak {peak / 2**20:.1f} MiB traced for the {nodes:,} nodes the eager step "
          f"builds; afterwards {kept / 2**20:.2f} MiB still allocated while the step is kept "
          f"(its source alone is {source_chars / 2**20:.2f} MiB of text), {left / 2**10:.0f} KiB "
          f"once it is dropped")
    fresh = fresh_run("jit", 100)
    print(f"  jit first call in a fresh process: RSS {fresh['before'] / 2**20:.0f} MiB before, "
          f"{fresh['peak'] / 2**20:.0f} MiB at peak, {fresh['after'] / 2**20:.0f} MiB after (step kept)")
    rows = []
    if "trace_s" in cost:
        rows.append(Row("jit first call (trace + compile), s | eager step, ms", cost["trace_s"],
                        cost["eager_ms"], cost["trace_s"] * 1e3 / cost["eager_ms"], "eager steps",
                        ("<=", 5.0)))
    return rows + [Row("jit first call: peak per node, KB", None, None, peak / nodes / 1e3, "KB"),
                   Row("jit first call: still allocated after / peak", None, None, kept / peak,
                       "fraction"),
                   Row("  the same by RSS, fresh process", None, None,
                       (fresh["after"] - fresh["before"]) / (fresh["peak"] - fresh["before"]), "fraction")]


def fresh_child(mode, n):
    """Run in a fresh process: the first step (jit_loss or eager) on n points; print the figures."""
    sys.path.insert(0, str(HERE.parent))
    import tinygrad_scalar as ts
    X, y = make_moons(n)
    model = demo_model(ts)
    params = model.parameters()
    if mode == "jit":
        step = ts.jit_loss(lambda X, y: demo_loss(ts, model, params, X, y), params)
        run = lambda: step(X, y)            # noqa: E731
    else:
        def run():
            loss = demo_loss(ts, model, params, X, y)
            loss.backward()
            return loss.data
    gc.collect()
    before = memory_status()[0]
    t0 = time.perf_counter()
    loss = run()
    seconds = time.perf_counter() - t0
    assert math.isfinite(loss), loss
    gc.collect()
    after, peak = memory_status()
    print(seconds, peak, before, after)
    return 0


def memory_status():
    """(resident now, resident peak) of this process in bytes, from /proc (Linux); nan elsewhere.

    Not resource.getrusage's ru_maxrss: a child started from a big parent inherits the parent's
    peak there, while /proc's VmHWM starts afresh at exec."""
    try:
        with open("/proc/self/status") as f:
            kib = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f)
                   if k in ("VmRSS", "VmHWM")}
        return kib["VmRSS"] * 1024, kib["VmHWM"] * 1024
    except (OSError, KeyError, ValueError):
        return math.nan, math.nan


def fresh_run(mode, n):
    """fresh_child in a subprocess: {seconds, peak, before, after} (bytes of RSS)."""
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", mode, str(n)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"the {mode} run on {n:,} points failed:\n{r.stderr[-2000:]}")
    return dict(zip(("seconds", "peak", "before", "after"), map(float, r.stdout.split()[-4:])))


BIG_POINTS = (2000, 10_000)


def case_big():
    """jit_loss on 2,000 and 10,000-point batches, and the eager step for scale, each in a
    fresh process: the first call in eager steps, and the memory it adds."""
    rows = []
    for n in BIG_POINTS:
        out = {}
        for mode in ("eager", "jit"):
            out[mode] = r = fresh_run(mode, n)
            print(f"  {n:,} points, {mode:5s} first step: {r['seconds']:6.2f} s, process RSS "
                  f"{r['before'] / 2**20:,.0f} MiB before, {r['peak'] / 2**20:,.0f} MiB at peak, "
                  f"{r['after'] / 2**20:,.0f} MiB after")
        jit, eager = out["jit"], out["eager"]
        rows += [Row(f"jit, {n:,} points: first call, s | eager step, s", jit["seconds"],
                     eager["seconds"], jit["seconds"] / eager["seconds"], "eager steps",
                     ("<=", 5.0) if n == 2000 else None),
                 Row(f"jit, {n:,} points: peak RSS added by the first call, MB", None, None,
                     (jit["peak"] - jit["before"]) / 1e6, "MB", ("<=", 300.0) if n == 2000 else None)]
    return rows


def case_main_job(ts, repeat):
    """train_moons (python3 tinygrad_scalar.py's training), with jit and without, alternating."""
    times = {True: [], False: []}
    for r in range(repeat):
        for use_jit in ((True, False) if r % 2 == 0 else (False, True)):
            gc.collect()
            t0 = time.perf_counter()
            result = ts.train_moons(200, progress=False, use_jit=use_jit)
            times[use_jit].append(time.perf_counter() - t0)
            assert result.accuracy == 1.0, (use_jit, result.accuracy)
    jit_s, eager_s = statistics.median(times[True]), statistics.median(times[False])
    return [Row("main job (train_moons), s: without jit | with jit", eager_s, jit_s,
                eager_s / jit_s, "nojit/jit", (">=", 1.0))]


# ------------------------------------------------------------------- report
def print_table(rows):
    print()
    print(f"{'case: first | second':56s} {'first':>10s} {'second':>10s} {'result':>9s} {'':10s} "
          f"{'goal':>8s}  met?")
    for r in rows:
        op, goal = r.goal or (None, None)
        met = "-" if op is None else ("yes" if (r.result >= goal if op == ">=" else r.result <= goal) else "NO")
        goal_s = "-" if op is None else f"{op}{goal:.3g}"
        first = "" if r.first is None else f"{r.first:10.2f}"
        second = "" if r.second is None else f"{r.second:10.2f}"
        print(f"{r.case:56s} {first:>10s} {second:>10s} {r.result:9.3g} {r.of:10s} {goal_s:>8s}  {met}")
    print("result: the ratio named after it (mg = micrograd), or a measurement in the unit named")


def main():
    ensure_venv()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per library and case")
    ap.add_argument("--big", action="store_true",
                    help="also jit_loss on 2,000 and 10,000 points: first call and peak memory")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "POINTS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:                          # a fresh process measuring one first step
        return fresh_child(args.child[0], int(args.child[1]))
    n_pairs = 20_000 if args.quick else 100_000
    repeat = args.repeat or (2 if args.quick else 5)
    warm, steps = (2, repeat) if args.quick else (10, 2 * repeat)

    sys.path.insert(0, str(HERE.parent))
    import micrograd.engine, micrograd.nn
    import tinygrad_scalar
    mg = types.SimpleNamespace(Value=micrograd.engine.Value, MLP=micrograd.nn.MLP)
    libs = {"micrograd": mg, "tinygrad_scalar": tinygrad_scalar}

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores | Python {platform.python_version()} | "
          f"micrograd {metadata.version('micrograd')} | "
          f"tinygrad_scalar {getattr(tinygrad_scalar, '__version__', '?')}")
    print(f"pairs {n_pairs:,}, repeat {repeat}, training warm-up {warm} + {steps} timed steps; "
          f"gc at defaults, collected before each timed run")
    cost = {}
    cases = [("engine", lambda: case_engine(libs, n_pairs, repeat)),
             ("memory", lambda: case_memory(libs, n_pairs)),
             ("training", lambda: case_training(libs, warm, steps, cost)),
             ("jit cost", lambda: case_jit_cost(tinygrad_scalar, cost)),
             ("main job", lambda: case_main_job(tinygrad_scalar, repeat))]
    if args.big:
        cases.append(("big", case_big))
    rows, failed = [], False
    for name, case in cases:
        try:
            rows += case()
        except Exception as e:
            failed = True
            print(f"  {name} case FAILED: {type(e).__name__}: {e}")
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
