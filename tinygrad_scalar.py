"""tinygrad_scalar: automatic differentiation for scalars, in one readable file.

Every number you compute with is a Value. Each operation on Values returns a new
Value that remembers its parents and the rule for its derivative; backward()
walks that graph from the output back to the inputs, applying the chain rule.

    >>> from tinygrad_scalar import Value
    >>> x = Value(2.0, label="x")
    >>> y = Value(3.0, label="y")
    >>> f = x * x * y + 2 * y          # f(x, y) = x²y + 2y
    >>> f.backward()
    >>> f.data, x.grad, y.grad         # ∇f = (2xy, x² + 2)
    (18.0, 12.0, 6.0)

Read top to bottom: the derivative rules, the Value class, backward and the
graph order; then the calculus tools (numerical checks, grad, jvp, jacobian,
hessian), custom functions, neural networks and optimizers, drawing, and a demo.
"""

import functools
import gc
import itertools
import math
import numbers
import operator
import random
import threading

__version__ = "0.1.0"

__all__ = [
    "Value", "no_grad", "enable_grad", "vsum", "dot", "logsumexp",
    "central_difference", "gradcheck", "GradcheckError", "derivative", "grad",
    "value_and_grad", "gradients_by_label", "jvp", "jacobian", "hessian",
    "Context", "ScalarFunction",
    "Module", "Neuron", "Layer", "MLP", "SGD", "Adam",
    "mse_loss", "hinge_loss", "binary_cross_entropy_with_logits", "cross_entropy",
    "make_moons", "make_linear",
    "draw_dot", "backward_steps", "graph_text", "train_moons",
]


################ The derivative rules: the chain rule at one node
# An op makes z = op(x) or z = op(x, y). When backward() reaches z it knows
# g = d(out)/dz, and the op's rule returns what flows to each input:
# g * dz/dx (and g * dz/dy). The rules are written once and work both on floats
# (an ordinary backward pass) and on Values (backward(create_graph=True), which
# records the backward pass itself so it can be differentiated again).
#
#   rule                        what flows back                  the local derivative

def _d_add(g, z, x, y):         return g, g                      # dz/dx = 1, dz/dy = 1
def _d_sub(g, z, x, y):         return g, -g                     # dz/dx = 1, dz/dy = -1
def _d_mul(g, z, x, y):         return g * y, g * x              # dz/dx = y, dz/dy = x
def _d_div(g, z, x, y):         return g / y, -g * z / y         # dz/dx = 1/y, dz/dy = -x/y²
def _d_pow(g, z, x, y):         return _pow_dx(g, x, y), g * z * _log(x, "**")  # dz/dx = y x^(y-1), dz/dy = z ln x
def _d_powc(g, z, x, y):        return _pow_dx(g, x, y), 0.0     # the same, with y a constant
def _d_neg(g, z, x):            return -g                        # dz/dx = -1
def _d_abs(g, z, x):            return g * ((x > 0) - (x < 0))   # dz/dx = sign x, 0 at 0
def _d_relu(g, z, x):           return g * (x > 0)               # dz/dx = 1 if x > 0 else 0
def _d_leaky_relu(g, z, x, s):  return g * (1 if x > 0 else s), 0.0   # dz/dx = 1 if x > 0 else s
def _d_exp(g, z, x):            return g * z                     # dz/dx = e^x = z
def _d_log(g, z, x):            return g / x                     # dz/dx = 1/x
def _d_sqrt(g, z, x):           return _over(g, 2 * z)           # dz/dx = 1/(2√x), +inf at 0
def _d_tanh(g, z, x):           return g * (1 - z * z)           # dz/dx = 1 - tanh²x
def _d_sigmoid(g, z, x):        return g * z * (1 - z)           # dz/dx = σ(x)(1 - σ(x))
def _d_softplus(g, z, x):       return g * _sigmoid(x)           # dz/dx = σ(x)
def _d_sin(g, z, x):            return g * _cos(x)               # dz/dx = cos x
def _d_cos(g, z, x):            return -g * _sin(x)              # dz/dx = -sin x
def _d_identity(g, z, x):       return g                         # dz/dx = 1
def _d_sum(g, z, *xs):          return (g,) * len(xs)            # dz/dxi = 1
def _d_lse(g, z, *xs):          return [g * _exp(x - z) for x in xs]  # dz/dxi = softmax_i


def _d_affine(g, z, *wxb):
    """z = w·x + b over parents (w1..wn, x1..xn, b): dz/dwi = xi, dz/dxi = wi, dz/db = 1."""
    n = len(wxb) // 2
    w, x = wxb[:n], wxb[n:2 * n]
    return [g * xi for xi in x] + [g * wi for wi in w] + [g]


def _over(g, d):
    """Return g / d, reading d = 0 as an infinite slope: ±inf, or 0 when g = 0."""
    if float(d) != 0.0:
        return g / d
    return g * math.inf if float(g) != 0.0 else g * 0.0


def _pow_dx(g, x, y):
    """Return g·y·x^(y-1), reading x = 0 as PyTorch does: 0 for y = 0, an infinite slope for 0 < y < 1."""
    if float(x) == 0.0 and float(y) < 1.0:
        return g * 0.0 if float(y) == 0.0 else _over(g * y, 0.0)
    try:
        return g * y * x ** (y - 1)
    except OverflowError:              # the slope is beyond the floats: ±inf, as in PyTorch
        sign = 1.0 if float(x) > 0.0 or float(y - 1) % 2.0 == 0.0 else -1.0
        return _over(g * y * sign, 0.0)


# Rules see floats in an ordinary backward pass and Values when create_graph=True.
def _log(x, op="log"):
    a = float(x)
    if not a > 0.0 and not math.isnan(a):
        if a == 0.0 and op == "**":
            return 0.0                 # d(0 ** y)/dy: PyTorch's convention, 0
        raise ValueError(f"{op}: the derivative with respect to the exponent needs a "
                         f"positive base (it is z·ln x), got x = {a!r}")
    return x.log() if isinstance(x, Value) else math.log(x)


def _exp(x):     return x.exp() if isinstance(x, Value) else math.exp(x)
def _sin(x):     return x.sin() if isinstance(x, Value) else math.sin(x)
def _cos(x):     return x.cos() if isinstance(x, Value) else math.cos(x)
def _sigmoid(x): return x.sigmoid() if isinstance(x, Value) else _sigmoid_float(x)


def _sigmoid_float(x):
    """σ(x) = 1 / (1 + e^-x), computed without overflow for any finite x."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


_OP_NAMES = {                          # each rule's op, as drawings show it
    _d_add: "+", _d_sub: "-", _d_mul: "*", _d_div: "/", _d_pow: "**", _d_powc: "**",
    _d_neg: "neg", _d_abs: "abs", _d_relu: "relu", _d_leaky_relu: "leaky_relu", _d_exp: "exp", _d_log: "log",
    _d_sqrt: "sqrt", _d_tanh: "tanh", _d_sigmoid: "sigmoid", _d_softplus: "softplus",
    _d_sin: "sin", _d_cos: "cos", _d_identity: "input", _d_sum: "sum",
    _d_lse: "logsumexp", _d_affine: "dot",
}


################ Forward arithmetic on floats, with errors that name the op

def _add(a, b):
    "a + b"
    return a + b


def _sub(a, b):
    "a - b"
    return a - b


def _mul(a, b):
    "a * b"
    return a * b


def _truediv(a, b):
    "a / b"
    if b == 0.0:
        raise ZeroDivisionError(f"/: division by zero: {a!r} / {b!r}")
    return a / b


def _pow(a, b):
    "a ** b"
    if a < 0.0 and math.isfinite(a) and math.isfinite(b) and not b.is_integer():
        raise ValueError(f"**: a negative base to a non-integer power has no real value: "
                         f"{a!r} ** {b!r}")
    if a == 0.0 and b < 0.0:
        raise ZeroDivisionError(f"**: 0.0 cannot be raised to the negative power {b!r}")
    try:
        return a ** b
    except OverflowError:
        raise OverflowError(f"**: {a!r} ** {b!r} is too large for a float") from None


def _checked(fn, x, op):
    """Return fn(x), turning math's bare errors into ones that name op and x."""
    try:
        return fn(x)
    except OverflowError:
        raise OverflowError(f"{op}: the result for x = {x!r} is too large for a float") from None
    except ValueError:
        raise ValueError(f"{op}: not defined for x = {x!r}") from None


################ Value: a number that remembers how it was made

class _GradMode(threading.local):
    enabled = True                     # False inside `with no_grad():`, per thread

    def __init__(self):
        self.saved = []                # the states to restore as blocks close, per thread


_grad_mode = _GradMode()
_no_grad_count = 0                     # grad-mode blocks open on any thread (0: skip the per-thread look-up)
_no_grad_lock = threading.Lock()
_new = object.__new__
_next_stamp = itertools.count(1).__next__
_NOT_NUMBERS = (str, bytes, complex, type(None), list, tuple, dict, set)


class Value:
    """A scalar that records the operations applied to it, for backpropagation."""

    __slots__ = (
        "data",           # the number itself, a Python float
        "grad",           # d(output)/d(this) after output.backward(); 0.0 before
        "requires_grad",  # False for constants: no gradient flows into them
        "label",          # an optional name, shown by repr and the drawings
        "_a", "_b",       # its parents: x and y of z = op(x, y); _b is None for one parent,
                          # and an op of many inputs keeps them all as a tuple in _a
        "_rule",          # the derivative rule of the op that made it (the table above); None for a leaf
        "_stamp",         # when it was made: a count that grows with every op (0 for a leaf)
    )                     # eight fields: each Value is 96 bytes, and the collector's scans stay short

    def __init__(self, data, label="", requires_grad=True):
        self.data = _to_float(data, "Value")
        self.grad = 0.0
        self.requires_grad = bool(requires_grad)
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {label!r}")
        self.label = label
        self._a = self._b = None
        self._rule = None
        self._stamp = 0

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self):
        return self.data

    def __bool__(self):
        return self.data != 0.0

    def __format__(self, spec):
        return format(self.data, spec)

    @property
    def _prev(self):
        """The parents this Value was computed from, in argument order (a*a has two)."""
        a, b = self._a, self._b
        if b is not None:
            return (a, b)
        return () if a is None else a if a.__class__ is tuple else (a,)

    @property
    def _op(self):
        """The name of the op that made this Value ("" for a leaf), for drawing."""
        rule = self._rule
        return "" if rule is None else _OP_NAMES.get(rule) or rule.__name__

    # Comparisons look at the numbers; == and hash stay identity, so Values
    # can be dict keys and set members (the graph walks rely on it).
    def __lt__(a, b):  return a.data < _data(b)
    def __le__(a, b):  return a.data <= _data(b)
    def __gt__(a, b):  return a.data > _data(b)
    def __ge__(a, b):  return a.data >= _data(b)
    __hash__ = object.__hash__

    # ---------------- primitive ops: compute the number, record the rule
    # Each binary op comes as a pair, a <op> b and b <op> a, made from the float
    # function above it, in the style of the standard library's fractions.py.

    def _binary(forward, op, rule, rule_constant_b=None):
        """Make a binary op's forward and reflected methods from forward(a, b) on floats."""
        rule_constant_b = rule_constant_b or rule

        def method(a, b):
            if b.__class__ is not Value:
                b = _operand(b, op)
                if b is NotImplemented:
                    return b
            out = _new(Value)          # _result(), written out: this is the hot path
            out.data = forward(a.data, b.data)
            out.grad = 0.0
            out.label = ""
            if (a.requires_grad or b.requires_grad) and (_no_grad_count == 0 or _grad_mode.enabled):
                out.requires_grad = True
                out._a = a
                out._b = b
                out._rule = rule if b.requires_grad else rule_constant_b
                out._stamp = _next_stamp()
            else:
                out.requires_grad = False
                out._a = out._b = None
                out._rule = None
                out._stamp = 0
            return out

        def reflected(b, a):
            a = _operand(a, op)
            if a is NotImplemented:
                return a
            return _result(forward(a.data, b.data), (a, b), rule)

        method.__name__ = f"__{forward.__name__[1:]}__"
        reflected.__name__ = f"__r{forward.__name__[1:]}__"
        method.__qualname__ = f"Value.{method.__name__}"
        reflected.__qualname__ = f"Value.{reflected.__name__}"
        method.__doc__ = reflected.__doc__ = forward.__doc__
        return method, reflected

    __add__, __radd__ = _binary(_add, "+", _d_add)
    __sub__, __rsub__ = _binary(_sub, "-", _d_sub)
    __mul__, __rmul__ = _binary(_mul, "*", _d_mul)
    __truediv__, __rtruediv__ = _binary(_truediv, "/", _d_div)
    __pow__, __rpow__ = _binary(_pow, "**", _d_pow, rule_constant_b=_d_powc)
    del _binary

    def __neg__(x):
        """-x"""
        return _result(-x.data, (x,), _d_neg)

    def __pos__(x):
        """+x: x itself"""
        return x

    def __abs__(x):
        """|x|"""
        return _result(abs(x.data), (x,), _d_abs)

    def relu(x):
        """max(x, 0)"""
        return _result(0.0 if x.data <= 0.0 else x.data, (x,), _d_relu)   # nan stays nan

    def exp(x):
        """e ** x"""
        return _result(_checked(math.exp, x.data, "exp"), (x,), _d_exp)

    def log(x):
        """ln x, for x > 0"""
        if not x.data > 0.0 and not math.isnan(x.data):
            raise ValueError(f"log: x must be > 0, got {x.data!r}")
        return _result(math.log(x.data), (x,), _d_log)

    def sqrt(x):
        """√x, for x ≥ 0"""
        if x.data < 0.0:
            raise ValueError(f"sqrt: x must be >= 0, got {x.data!r}")
        return _result(math.sqrt(x.data), (x,), _d_sqrt)

    def tanh(x):
        """tanh x"""
        return _result(math.tanh(x.data), (x,), _d_tanh)

    def sigmoid(x):
        """1 / (1 + e^-x), computed stably"""
        return _result(_sigmoid_float(x.data), (x,), _d_sigmoid)

    def softplus(x):
        """ln(1 + e^x), computed stably"""
        a = x.data
        return _result(max(a, 0.0) + math.log1p(math.exp(-abs(a))), (x,), _d_softplus)

    def sin(x):
        """sin x"""
        return _result(_checked(math.sin, x.data, "sin"), (x,), _d_sin)

    def cos(x):
        """cos x"""
        return _result(_checked(math.cos, x.data, "cos"), (x,), _d_cos)

    # ---------------- derived ops: algebra on the primitives

    def square(x):
        """x²"""
        return x * x

    def leaky_relu(x, slope=0.01):
        """x if x > 0 else slope·x"""
        s = _constant(_to_float(slope, "leaky_relu"))
        return _result(x.data if x.data > 0.0 else s.data * x.data, (x, s), _d_leaky_relu)

    # ---------------- gradients

    def backward(self, create_graph=False):
        """Set .grad of everything this Value depends on to d(self)/d(it), seeding d(self)/d(self) = 1.

        Leaves accumulate: a second call adds the same gradient again, as in PyTorch.
        Values in between get fresh gradients on every call. With create_graph=True
        the gradients are Values themselves, so they can be differentiated again;
        then x.grad depends on x, a reference cycle that only gc.collect() frees
        (as in PyTorch): grad() and hessian() give the same numbers without it.
        Raises RuntimeError if self does not require grad (a constant).
        """
        if not self.requires_grad:
            raise RuntimeError(f"backward: {self!r} is a constant (requires_grad=False); "
                               f"no gradient can flow from it")
        if self._rule is None:         # a leaf: d(self)/d(self) = 1 and nothing else
            self.grad += 1.0
            return
        order = _backward_order([self])
        for v in order:                # gradients in between are recomputed, never compounded
            v.grad = 0.0
        if create_graph:
            _backward_recorded(order, self)
            return
        self.grad = 1.0
        for v in order:                # v._backward() for each node, written out for speed
            g, a, b = v.grad, v._a, v._b
            if b is not None:          # two parents
                da, db = v._rule(g, v.data, a.data, b.data)
                if a.requires_grad:
                    a.grad += da
                if b.requires_grad:
                    b.grad += db
            elif a.__class__ is not tuple:   # one parent, which always requires grad
                a.grad += v._rule(g, v.data, a.data)
            else:                      # many parents
                for p, d in zip(a, v._rule(g, v.data, *[p.data for p in a])):
                    if p.requires_grad:
                        p.grad += d

    def _backward(self):
        """Apply the chain rule at this node once: add g·(local derivative) to each parent's grad.

        backward() does this for every node, newest first; call it yourself to
        step through a graph by hand, as in micrograd's lectures.
        """
        for p, d in _local_grads(self, self.grad):
            if p.requires_grad:
                p.grad += d

    def zero_grad(self):
        """Set to 0 the gradient of this Value and of every Value it depends on."""
        for v in _all_nodes([self]):
            v.grad = 0.0

    def detach(self):
        """Return a constant with the same number, cut off from the graph."""
        return Value(self.data, self.label, requires_grad=False)


def _per_parent(v, d):
    """Return a rule's answer as one gradient per parent (a one-input rule returns just one)."""
    return (d,) if v._b is None and v._a.__class__ is not tuple else d


def _local_grads(v, g):
    """Return (parent, g · d(v)/d(parent)) for each of v's parents, by v's rule on floats."""
    if v._rule is None:
        return []
    prev = v._prev
    return list(zip(prev, _per_parent(v, v._rule(g, v.data, *[p.data for p in prev]))))


def _backward_recorded(order, root):
    """Run the backward pass on Values, recording it, for create_graph=True."""
    root.grad = _constant(1.0)
    for v in order:
        prev = v._prev
        for p, dp in zip(prev, _per_parent(v, v._rule(v.grad, v, *prev))):
            if p.requires_grad:
                old = p.grad
                p.grad = dp if (old.__class__ is float and old == 0.0) else old + dp


def _to_float(x, op):
    """Return x as a float, or raise TypeError naming op and x if it is not a real number."""
    if x.__class__ is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{op}: {x!r} is too large for a float") from None
    hint = "; use v.detach() for a constant copy" if isinstance(x, Value) else ""
    raise TypeError(f"{op}: expected a real number, got {x!r} ({type(x).__name__}){hint}")


def _constant(x):
    """Return a new constant Value holding the float x."""
    c = _new(Value)
    c.data = x
    c.grad = 0.0
    c.requires_grad = False
    c.label = ""
    c._a = c._b = None
    c._rule = None
    c._stamp = 0
    return c


def _operand(x, op):
    """Return x as a Value for op; NotImplemented for a type Python should try the other way."""
    if isinstance(x, Value):
        return x
    if isinstance(x, (float, int)) or isinstance(x, numbers.Real):
        return _constant(_to_float(x, op))
    if isinstance(x, _NOT_NUMBERS):
        raise TypeError(f"{op}: expected a real number or a Value, got {x!r} ({type(x).__name__})")
    return NotImplemented


def _data(x):
    """The number behind a comparison operand."""
    return x.data if isinstance(x, Value) else x


def _result(data, parents, rule, many=False):
    """Return the Value an op makes, recording its parents and rule if a gradient can flow to any.

    many=True marks an op of any number of inputs, whose rule returns one gradient per input.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if _no_grad_count == 0 or _grad_mode.enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                if many or len(parents) > 2:
                    out._a, out._b = tuple(parents), None
                else:
                    out._a, out._b = (parents + (None,))[:2]
                out._rule = rule
                out._stamp = _next_stamp()
                return out
    out.requires_grad = False          # nothing to learn upstream: a constant
    out._a = out._b = None
    out._rule = None
    out._stamp = 0
    return out


def _nary(values, op, fn, rule):
    """Return one node computing fn(floats) over many Values (one node instead of a chain)."""
    parents = tuple(v if isinstance(v, Value) else _constant(_to_float(v, op)) for v in values)
    return _result(fn([p.data for p in parents]), parents, rule, many=True)


def _sum(floats):
    """Add floats as + does, so inf and nan come out as they would with +."""
    return sum(floats, 0.0)


def vsum(values):
    """Return the sum of many Values as a single node (faster than a chain of +)."""
    return _nary(values, "sum", _sum, _d_sum)


def dot(w, x, bias=0.0):
    """Return Σ wi·xi + bias as a single node."""
    w, x = list(w), list(x)
    if len(w) != len(x):
        raise ValueError(f"dot: the two sequences differ in length ({len(w)} and {len(x)})")
    return _nary(w + x + [bias], "dot", lambda d: _sum(map(_mul, d[:len(w)], d[len(w):-1])) + d[-1],
                 _d_affine)


def logsumexp(values):
    """Return ln Σ e^xi as a single node, computed without overflow."""
    def lse(xs):
        if not xs:
            raise ValueError("logsumexp: needs at least one value")
        if any(map(math.isnan, xs)):
            return math.nan
        m = max(xs)
        if math.isinf(m):
            return m
        return m + math.log(_sum(math.exp(x - m) for x in xs))
    return _nary(values, "logsumexp", lse, _d_lse)


class no_grad:
    """Record no graph inside `with no_grad():` (on this thread): results are constants.

    Works as a decorator too: @no_grad or @no_grad().
    """

    enabled = False                    # the grad mode inside the block

    def __new__(cls, fn=None):
        if fn is not None:             # used bare, as @no_grad
            return cls()(fn)
        return super().__new__(cls)

    def __init__(self, fn=None):
        pass

    def __enter__(self):
        global _no_grad_count
        _grad_mode.saved.append(_grad_mode.enabled)
        _grad_mode.enabled = self.enabled
        with _no_grad_lock:
            _no_grad_count += 1
        return self

    def __exit__(self, *exc):
        global _no_grad_count
        _grad_mode.enabled = _grad_mode.saved.pop()
        with _no_grad_lock:
            _no_grad_count -= 1
        return False

    def __call__(self, fn):
        mode = type(self)

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with mode():
                return fn(*args, **kwargs)
        return wrapped


class enable_grad(no_grad):
    """Record the graph inside `with enable_grad():`, even within no_grad (on this thread)."""

    enabled = True


################ The graph order: who must be processed before whom

def _backward_order(roots):
    """Return the non-leaf Values the roots depend on, each before its parents.

    A Value is always made after its parents, so the order in which Values were
    made is already a topological order: collect the graph with an iterative
    depth-first search (no recursion, so a million-op chain is fine), then sort
    it newest first. The search is linear in the graph's size; the sort is too
    in practice, because the search already yields long newest-first runs (a
    chain comes out sorted) and Python's sort merges runs in linear time.
    """
    order = [r for r in roots if r._rule is not None]
    seen = set(order)
    stack = order[:]
    while stack:
        v = stack.pop()
        for p in (v._a, v._b) if v._b is not None else v._prev:
            if p._rule is not None and p not in seen:
                seen.add(p)
                stack.append(p)
                order.append(p)
    order.sort(key=_by_stamp, reverse=True)
    return order


_by_stamp = operator.attrgetter("_stamp")


def _all_nodes(roots):
    """Return every Value the roots depend on, leaves included, each after its parents."""
    order = _backward_order(roots)
    order.reverse()
    seen = set(order)
    leaves = []
    for v in [r for r in roots if r._rule is None] + [p for v in order for p in v._prev]:
        if v not in seen:
            seen.add(v)
            leaves.append(v)
    return leaves + order


################ Calculus tools: numerical checks, grad, forward mode, Jacobians, Hessians

def _call(f, args, op):
    """Call f(*args) and return its output as a Value, or raise TypeError naming op."""
    out = f(*args)
    if not isinstance(out, Value):
        raise TypeError(f"{op}: f must return a single Value (a scalar), got {out!r}")
    return out


def _float_of(f, args):
    """Evaluate f at plain numbers, with no graph recorded; return a float."""
    with no_grad():
        out = f(*[_constant(_to_float(_data(a), "central_difference")) for a in args])
    if not isinstance(out, (Value, numbers.Real)):
        raise TypeError(f"central_difference: f must return a single number or Value, got {out!r}")
    return float(out)


def central_difference(f, *args, arg=0, epsilon=1e-6):
    """Return ∂f/∂args[arg] ≈ (f(x + ε) − f(x − ε)) / 2ε, leaving every .grad as it was."""
    if not 0 <= arg < len(args):
        raise IndexError(f"central_difference: arg={arg} is out of range for {len(args)} argument(s)")
    up, down = list(args), list(args)
    up[arg] = _data(args[arg]) + epsilon
    down[arg] = _data(args[arg]) - epsilon
    return (_float_of(f, up) - _float_of(f, down)) / (2.0 * epsilon)


def _gradients(out, wrt, create_graph=False):
    """Return d(out)/dw for each w in wrt, leaving every .grad in the graph as it was."""
    nodes = _all_nodes([out])
    saved = [v.grad for v in nodes]
    try:
        for v in nodes:
            v.grad = 0.0
        if out.requires_grad:
            out.backward(create_graph=create_graph)
        in_graph = set(nodes)
        return [w.grad if w in in_graph else 0.0 for w in wrt]
    finally:
        for v, g in zip(nodes, saved):
            v.grad = g


def _argnums(argnums, n, op):
    """Return argnums as a tuple of positions in 0..n-1, or raise IndexError naming op."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -n <= i < n:
            raise IndexError(f"{op}: argnums={argnums!r} is out of range for {n} argument(s)")
    return tuple(i % n for i in nums)


def _inputs(args, nums, op):
    """Wrap args for differentiation: the ones at positions nums become fresh variables."""
    wrapped = []
    for i, a in enumerate(args):
        if i in nums:
            if isinstance(a, Value):   # a nested transform: stay connected to a's graph
                a = _result(a.data, (a,), _d_identity) if a.requires_grad else Value(a.data)
            else:
                a = Value(_to_float(a, op))
        elif isinstance(a, numbers.Real) and not isinstance(a, bool):
            a = _constant(float(a))
        wrapped.append(a)
    return wrapped


def value_and_grad(f, argnums=0):
    """Return a function computing (f(*args), ∂f/∂args[argnums]), as jax.value_and_grad does.

    Plain numbers in, plain floats out; called with Values (inside another grad),
    it returns Values so the result can be differentiated again.
    """
    def value_and_grad_f(*args):
        nums = _argnums(argnums, len(args), "grad")
        nested = any(isinstance(args[i], Value) and args[i].requires_grad for i in nums)
        with enable_grad():            # a transform records its graph even inside no_grad
            inputs = _inputs(args, nums, "grad")
            out = _call(f, inputs, "grad")
            grads = _gradients(out, [inputs[i] for i in nums], create_graph=nested)
        if not nested:
            out, grads = out.data, [float(g) for g in grads]
        return out, grads[0] if isinstance(argnums, int) else tuple(grads)
    value_and_grad_f.__name__ = f"value_and_grad_{getattr(f, '__name__', 'f')}"
    return value_and_grad_f


def grad(f, argnums=0):
    """Return a function computing ∂f/∂args[argnums], as jax.grad does (an int or a tuple)."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args):
        return vg(*args)[1]
    grad_f.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    return grad_f


def derivative(f):
    """Return f′, the derivative of a function of one number, as a function float → float."""
    return grad(f, 0)


def gradients_by_label(out):
    """Return {label: d(out)/d(leaf)} for every labelled leaf out depends on."""
    leaves = [v for v in _all_nodes([out]) if v._rule is None and v.label and v.requires_grad]
    grads = _gradients(out, leaves)
    result = {}
    for v, g in zip(leaves, grads):
        if v.label in result:
            raise ValueError(f"gradients_by_label: two different leaves are labelled {v.label!r}")
        result[v.label] = float(g)
    return dict(sorted(result.items()))


class GradcheckError(RuntimeError):
    """Autodiff and central differences disagree (raised by gradcheck)."""


def gradcheck(f, *args, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare every autodiff partial of f with a central difference; return True or raise.

    The test, as PyTorch's: |autodiff − numerical| ≤ atol + rtol·|numerical|.
    Raises GradcheckError with a table of every partial when any disagree.
    """
    floats = [_to_float(_data(a), "gradcheck") for a in args]
    auto = grad(f, tuple(range(len(floats))))(*floats) if floats else ()
    rows, ok = [], True
    for i, a in enumerate(auto):
        n = central_difference(f, *floats, arg=i, epsilon=eps)
        bad = not abs(a - n) <= atol + rtol * abs(n)
        ok = ok and not bad
        rows.append((f"x{i}", a, n, a - n, "  <- mismatch" if bad else ""))
    if ok:
        return True
    name = getattr(f, "__name__", "f")
    lines = [f"gradcheck: {name} at {tuple(floats)}: autodiff and numerical gradients differ "
             f"(atol={atol}, rtol={rtol}, eps={eps})",
             f"{'argument':>9} {'autodiff':>14} {'numerical':>14} {'difference':>14}"]
    lines += [f"{r[0]:>9} {r[1]:>14.6g} {r[2]:>14.6g} {r[3]:>14.3g}{r[4]}" for r in rows]
    raise GradcheckError("\n".join(lines))


def _outputs(out, op):
    """Return f's output as a list of Values, and whether it was a single one."""
    if isinstance(out, Value):
        return [out], True
    if isinstance(out, (list, tuple)) and out and all(isinstance(o, Value) for o in out):
        return list(out), False
    raise TypeError(f"{op}: f must return a Value or a non-empty list of Values, got {out!r}")


def _push_tangents(order, tangent):
    """Forward mode: carry d(node)/dt from the inputs through order (parents first).

    tangent maps the input leaves to their tangents and gains an entry per node.
    The local derivatives are the same rules that backward uses, called with g = 1.
    """
    for v in order:                    # parents with no tangent add nothing (not even inf·0)
        tangent[v] = _sum(d * tangent[p] for p, d in _local_grads(v, 1.0) if tangent.get(p, 0.0) != 0.0)
    return tangent


def _trace(f, primals, op):
    """Record f at primals: return the input leaves, the outputs and the order parents-first."""
    inputs = [Value(_to_float(_data(p), op)) for p in primals]
    with enable_grad():
        outs, single = _outputs(f(*inputs), op)
    order = _backward_order(outs)
    order.reverse()
    return inputs, outs, single, order


def jvp(f, primals, tangents):
    """Return (f(primals), J·tangents) by forward mode, as jax.jvp does."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); "
                         f"there must be one tangent per primal")
    tangents = [_to_float(_data(t), "jvp") for t in tangents]
    inputs, outs, single, order = _trace(f, primals, "jvp")
    t = _push_tangents(order, dict(zip(inputs, tangents)))
    values, dots = [o.data for o in outs], [t.get(o, 0.0) for o in outs]
    return (values[0], dots[0]) if single else (values, dots)


def jacobian(f, mode="rev"):
    """Return a function computing f's m×n Jacobian (a list of m rows), for f: Rⁿ → Rᵐ.

    mode="rev": one backward pass per output (m passes), like jax.jacrev.
    mode="fwd": one forward-mode pass per input (n passes), like jax.jacfwd.
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', got {mode!r}")

    def jacobian_f(*args):
        inputs, outs, single, order = _trace(f, args, "jacobian")
        if mode == "rev":
            return [[float(g) for g in _gradients(o, inputs)] for o in outs]
        columns = []
        for j in range(len(inputs)):
            t = _push_tangents(order, {x: float(i == j) for i, x in enumerate(inputs)})
            columns.append([t.get(o, 0.0) for o in outs])
        return [list(row) for row in zip(*columns)] if columns else [[] for _ in outs]
    return jacobian_f


_KINKS = {"relu": 0.0, "abs": 0.0, "leaky_relu": 0.0}   # ops with no second derivative at this input


def hessian(f):
    """Return a function computing the n×n matrix of second derivatives of f at its n arguments.

    Raises ValueError when the point sits on a kink (relu or abs at 0), where
    the second derivative does not exist.
    """
    def hessian_f(*args):
        inputs = [Value(_to_float(_data(a), "hessian")) for a in args]
        with enable_grad():
            out = _call(f, inputs, "hessian")
        for v in _all_nodes([out]):
            if v._op in _KINKS and v._prev[0].data == _KINKS[v._op]:
                raise ValueError(f"hessian: {v._op} is not twice differentiable at its kink "
                                 f"x = {v._prev[0].data!r}")
        with enable_grad():
            first = _gradients(out, inputs, create_graph=True)
        return [[float(h) for h in _gradients(g, inputs)] if isinstance(g, Value) and g.requires_grad
                else [0.0] * len(inputs) for g in first]
    return hessian_f


################ Custom functions: forward and backward by hand, as in the lectures

class Context:
    """What a ScalarFunction's forward keeps for its backward."""

    def __init__(self):
        self._saved = ()               # the values given to save_for_backward

    def save_for_backward(self, *values):
        """Keep values for backward."""
        self._saved = values

    @property
    def saved_values(self):
        """The saved values: the value itself if one was saved (x = ctx.saved_values), else a tuple."""
        return self._saved[0] if len(self._saved) == 1 else self._saved

    def __repr__(self):
        return f"Context(saved_values={self._saved!r})"


class ScalarFunction:
    """A new op written by hand: subclass, define forward and backward, call .apply.

        class Square(ScalarFunction):
            @staticmethod
            def forward(ctx, x):               # floats in, a float out
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, d_out):          # d(out)/d(result) in; one gradient per input out
                x = ctx.saved_values           # one saved value comes back bare
                return 2 * x * d_out

        y = Square.apply(Value(3.0))
    """

    @staticmethod
    def forward(ctx, *values):
        raise NotImplementedError("a ScalarFunction subclass must define forward(ctx, *values)")

    @staticmethod
    def backward(ctx, d_out):
        raise NotImplementedError("a ScalarFunction subclass must define backward(ctx, d_out)")

    @classmethod
    def apply(cls, *args):
        """Run forward on the numbers inside args and record the result for backward."""
        name = cls.__name__
        inputs = tuple(_operand_strict(a, name) for a in args)
        ctx = Context()
        out = cls.forward(ctx, *[x.data for x in inputs])
        if isinstance(out, Value) or not isinstance(out, numbers.Real):
            raise TypeError(f"{name}.forward must return a real number, got {out!r}")
        return _result(float(out), inputs, _custom_rule(cls, ctx, len(inputs)))


def _operand_strict(x, op):
    """Return x as a Value, or raise TypeError naming op."""
    v = _operand(x, op)
    if v is NotImplemented:
        raise TypeError(f"{op}: expected a real number or a Value, got {x!r} ({type(x).__name__})")
    return v


def _custom_rule(fn, ctx, n):
    """Make the derivative rule of one call of fn: its backward, with the answer checked."""
    def rule(g, z, *xs):
        if isinstance(g, Value):
            raise RuntimeError(f"{fn.__name__}: a ScalarFunction's backward works on floats, so "
                               f"create_graph=True (higher derivatives) cannot pass through it")
        grads = fn.backward(ctx, g)
        if n == 1 and not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if not isinstance(grads, (tuple, list)) or len(grads) != n:
            raise ValueError(f"{fn.__name__}.backward returned {grads!r}: expected {n} gradient(s), "
                             f"one per input")
        grads = [0.0 if d is None else d for d in grads]   # None: no gradient for that input
        for d in grads:
            if isinstance(d, Value) or not isinstance(d, numbers.Real):
                raise TypeError(f"{fn.__name__}.backward returned {d!r} as a gradient: "
                                f"expected a real number")
        return float(grads[0]) if n == 1 else [float(d) for d in grads]
    rule.__name__ = fn.__name__        # the op's name, for drawing
    return rule


################ Neural networks: Neuron, Layer, MLP, and their parameters

def _rng(seed):
    """Return a random.Random from a seed, a Random, or None (a fresh unseeded one)."""
    return seed if isinstance(seed, random.Random) else random.Random(seed)


class _gc_paused:
    """Pause the cyclic garbage collector for a block, restoring it after.

    The graph this library builds has no reference cycles, so nothing is lost:
    reference counting frees it. This only saves the collector's scans of a
    graph that is still growing.
    """

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()
        return False


_ACTIVATIONS = {
    "relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
    "none": None, None: None, "linear": None,
}


class Module:
    """A model part with parameters: the base of Neuron, Layer and MLP."""

    def parameters(self):
        """Return the list of Values this module learns."""
        return []

    def zero_grad(self):
        """Set every parameter's gradient to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def __call__(self, x):
        with _gc_paused():
            return self.forward(x)

    def _named(self):
        """The parameters in state_dict()'s shape: a dict of Values and lists of them."""
        return {"parameters": self.parameters()}

    def state_dict(self):
        """Return the parameters as plain, JSON-serialisable data, named as in PyTorch."""
        return _map_tree(lambda p: p.data, self._named())

    def load_state_dict(self, state):
        """Set the parameters from state_dict() data; a wrong shape changes nothing and raises."""
        named = self._named()
        _check_state(_map_tree(lambda p: p.data, named), state, type(self).__name__)
        for p, x in zip(_flatten(named, named), _flatten(state, named)):
            p.data = float(x)


def _map_tree(fn, tree):
    """Apply fn to every Value in a tree of dicts and lists."""
    if isinstance(tree, dict):
        return {k: _map_tree(fn, v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_map_tree(fn, v) for v in tree]
    return fn(tree)


def _flatten(tree, shape):
    """Return the leaves of tree in the order of shape's keys and lists."""
    if isinstance(shape, dict):
        return [x for k in shape for x in _flatten(tree[k], shape[k])]
    if isinstance(shape, list):
        return [x for t, sh in zip(tree, shape) for x in _flatten(t, sh)]
    return [tree]


def _check_state(own, state, where):
    """Raise ValueError or TypeError unless state has exactly own's structure."""
    if isinstance(own, dict):
        if not isinstance(state, dict) or set(state) != set(own):
            got = sorted(state) if isinstance(state, dict) else state
            raise ValueError(f"load_state_dict: {where} expects keys {sorted(own)}, got {got!r}")
        for k in own:
            _check_state(own[k], state[k], f"{where}.{k}")
    elif isinstance(own, list):
        if not isinstance(state, (list, tuple)) or len(state) != len(own):
            n = len(state) if isinstance(state, (list, tuple)) else state
            raise ValueError(f"load_state_dict: {where} expects a list of {len(own)}, got {n!r}")
        for i, (o, s) in enumerate(zip(own, state)):
            _check_state(o, s, f"{where}[{i}]")
    elif isinstance(state, bool) or not isinstance(state, numbers.Real):
        raise TypeError(f"load_state_dict: {where} expects a number, got {state!r}")


def _as_inputs(x, nin, where):
    """Return x as a list of nin Values (numbers become constants), or raise naming where."""
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    try:
        x = list(x)
    except TypeError:
        raise TypeError(f"{where}: expected a list of {nin} numbers or Values, got {x!r}") from None
    if len(x) != nin:
        raise ValueError(f"{where}: expected {nin} input(s), got {len(x)}: {x!r}")
    return [v if isinstance(v, Value) else _constant(_to_float(v, where)) for v in x]


class Neuron(Module):
    """act(w·x + b): one weight per input, a bias, and an activation."""

    def __init__(self, nin, activation="relu", seed=None):
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Neuron: activation must be one of 'relu', 'tanh', 'sigmoid', 'none'; "
                             f"got {activation!r}")
        rng = _rng(seed)
        bound = 1.0 / math.sqrt(nin)   # PyTorch's nn.Linear initialisation
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(rng.uniform(-bound, bound))
        self.activation = activation if activation not in (None, "linear") else "none"
        self._act = _ACTIVATIONS[activation]

    def forward(self, x):
        return self._apply(_as_inputs(x, len(self.w), "Neuron"))

    def _apply(self, xs):
        out = _result(_sum(map(_mul, [w.data for w in self.w], [x.data for x in xs])) + self.b.data,
                      (*self.w, *xs, self.b), _d_affine)
        return self._act(out) if self._act else out

    def parameters(self):
        return self.w + [self.b]

    def _named(self):
        return {"weight": self.w, "bias": self.b}

    def __repr__(self):
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons side by side, all reading the same nin inputs."""

    def __init__(self, nin, nout, activation="relu", seed=None):
        if not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def forward(self, x):
        out = self._apply(_as_inputs(x, len(self.neurons[0].w), "Layer"))
        return out[0] if len(out) == 1 else out

    def _apply(self, xs):
        return [n._apply(xs) for n in self.neurons]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def _named(self):
        return {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}

    def __repr__(self):
        return f"Layer({len(self.neurons[0].w)}, {len(self.neurons)}, activation={self.neurons[0].activation!r})"


class MLP(Module):
    """A multi-layer perceptron: MLP(2, [16, 16, 1]) maps 2 inputs through two hidden layers to 1 output.

    Hidden layers use the activation; the last layer is linear.
    """

    def __init__(self, nin, nouts, activation="relu", seed=None):
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise TypeError(f"MLP: nouts must be a list of layer widths such as [16, 16, 1], got {nouts!r}")
        nouts = list(nouts)
        rng = _rng(seed)
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "none", rng)
                       for i in range(len(nouts))]

    def forward(self, x):
        xs = _as_inputs(x, len(self.layers[0].neurons[0].w), "MLP")
        for layer in self.layers:
            xs = layer._apply(xs)
        return xs[0] if len(xs) == 1 else xs

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def _named(self):
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer._named().items()}

    def __repr__(self):
        return f"MLP({len(self.layers[0].neurons[0].w)}, {[len(l.neurons) for l in self.layers]})"


################ Optimizers: SGD and Adam, with PyTorch's update rules

class _Optimizer:
    """Holds a list of parameters; step() updates them from their gradients."""

    def __init__(self, params, lr):
        name = type(self).__name__
        if isinstance(params, Module):
            raise TypeError(f"{name}: got the model {params!r}; pass model.parameters()")
        try:
            self.params = list(params) if not isinstance(params, Value) else [params]
        except TypeError:
            raise TypeError(f"{name}: expected a list of Values to optimize, got {params!r}") from None
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameter {i} is {p!r}, expected a Value")
        if not isinstance(lr, numbers.Real) or not lr >= 0.0:
            raise ValueError(f"{name}: lr must be a number >= 0, got {lr!r}")
        self.lr = float(lr)

    def zero_grad(self):
        """Set every parameter's gradient to 0."""
        for p in self.params:
            p.grad = 0.0


def _hyper(x, name, what, below_one=False):
    """Return a hyperparameter as a float, or raise ValueError naming the optimizer and the value."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not 0.0 <= x < (1.0 if below_one else math.inf):
        bound = "in [0, 1)" if below_one else ">= 0"
        raise ValueError(f"{name}: {what} must be a number {bound}, got {x!r}")
    return float(x)


class SGD(_Optimizer):
    """Stochastic gradient descent: p ← p − lr·(g + wd·p), with optional momentum (as torch.optim.SGD)."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = _hyper(momentum, "SGD", "momentum")
        self.weight_decay = _hyper(weight_decay, "SGD", "weight_decay")
        self.velocity = [None] * len(self.params)   # momentum buffers, made on the first step

    def step(self):
        """Update every parameter once."""
        for i, p in enumerate(self.params):
            g = float(p.grad) + self.weight_decay * p.data
            if self.momentum:
                b = self.velocity[i]
                g = self.velocity[i] = g if b is None else self.momentum * b + g
            p.data -= self.lr * g


class Adam(_Optimizer):
    """Adam: steps by bias-corrected running means of g and g² (as torch.optim.Adam)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1, self.beta2 = (_hyper(b, "Adam", "betas", below_one=True) for b in betas)
        self.eps = _hyper(eps, "Adam", "eps")
        self.weight_decay = _hyper(weight_decay, "Adam", "weight_decay")
        self.m = [0.0] * len(self.params)            # running mean of g
        self.v = [0.0] * len(self.params)            # running mean of g²
        self.t = 0                                   # steps taken

    def step(self):
        """Update every parameter once."""
        self.t += 1
        c1, c2 = 1.0 - self.beta1 ** self.t, 1.0 - self.beta2 ** self.t
        for i, p in enumerate(self.params):
            g = float(p.grad) + self.weight_decay * p.data
            self.m[i] = self.beta1 * self.m[i] + (1.0 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1.0 - self.beta2) * g * g
            p.data -= self.lr * (self.m[i] / c1) / (math.sqrt(self.v[i] / c2) + self.eps)


################ Losses, with PyTorch's names and meanings

def _pairs(preds, targets, op):
    """Return preds and targets as two equal-length lists (a single pair becomes lists of one)."""
    if isinstance(preds, (Value, numbers.Real)):
        preds, targets = [preds], [targets]
    if not isinstance(targets, (list, tuple)) or not isinstance(preds, (list, tuple)):
        raise TypeError(f"{op}: expected predictions and targets as two lists (or one of each), "
                        f"got {preds!r} and {targets!r}")
    if len(preds) != len(targets) or not preds:
        raise ValueError(f"{op}: {len(preds)} prediction(s) but {len(targets)} target(s)")
    return [_operand_strict(p, op) for p in preds], [_operand_strict(t, op) for t in targets]


def _mean(values):
    return vsum(values) * (1.0 / len(values))


def mse_loss(preds, targets):
    """Mean of (pred − target)²."""
    preds, targets = _pairs(preds, targets, "mse_loss")
    return _mean([(p - t) * (p - t) for p, t in zip(preds, targets)])


def hinge_loss(scores, labels):
    """Mean of max(0, 1 − label·score), labels ±1: micrograd's max-margin loss."""
    scores, labels = _pairs(scores, labels, "hinge_loss")
    for y in labels:
        if y.data not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss: labels must be -1 or +1, got {y!r}")
    return _mean([(1 - y * s).relu() for s, y in zip(scores, labels)])


def binary_cross_entropy_with_logits(logits, targets):
    """Mean of softplus(x) − x·t, the stable form of −t·ln σ(x) − (1 − t)·ln(1 − σ(x))."""
    logits, targets = _pairs(logits, targets, "binary_cross_entropy_with_logits")
    return _mean([x.softplus() - x * t for x, t in zip(logits, targets)])


def cross_entropy(logits, target):
    """−log softmax(logits)[target]: one example (a list of logits and a class index) or a batch (mean)."""
    if not isinstance(logits, (list, tuple)) or not logits:
        raise TypeError(f"cross_entropy: expected a non-empty list of logits, got {logits!r}")
    if isinstance(logits[0], (list, tuple)):
        if not isinstance(target, (list, tuple)) or len(logits) != len(target):
            raise ValueError(f"cross_entropy: {len(logits)} examples need a list of {len(logits)} "
                             f"class indices, got {target!r}")
        return _mean([cross_entropy(row, t) for row, t in zip(logits, target)])
    try:
        if isinstance(target, bool):
            raise TypeError
        target = operator.index(target)          # int, or numpy's integers
    except TypeError:
        raise TypeError(f"cross_entropy: target must be an int class index, got {target!r}") from None
    if not 0 <= target < len(logits):
        raise ValueError(f"cross_entropy: target must be a class index in [0, {len(logits)}), got {target!r}")
    x = _operand_strict(logits[target], "cross_entropy")
    return logsumexp(logits) - x


################ Data for demos and tests, in pure Python

def make_moons(n=100, noise=0.1, seed=None):
    """Return (X, y): n points on two interleaving half circles, labels 0 and 1 (as scikit-learn's)."""
    rng = _rng(seed)
    n_out = n // 2
    X, y = [], []
    for i in range(n):
        outer = i < n_out
        k, m = (i, n_out) if outer else (i - n_out, n - n_out)
        t = math.pi * k / max(m - 1, 1)
        x1, x2 = (math.cos(t), math.sin(t)) if outer else (1 - math.cos(t), 0.5 - math.sin(t))
        X.append([x1 + rng.gauss(0, noise), x2 + rng.gauss(0, noise)])
        y.append(0 if outer else 1)
    return X, y


def make_linear(n=50, weight=5.0, bias=10.0, noise=3.0, x_range=(-10.0, 10.0), seed=None):
    """Return (xs, ys) with y = bias + weight·x + gaussian noise (the notes' regression exercise)."""
    rng = _rng(seed)
    xs = [rng.uniform(*x_range) for _ in range(n)]
    return xs, [bias + weight * x + rng.gauss(0, noise) for x in xs]


################ Drawing: the graph as a picture or as text, and backprop step by step

def backward_steps(root):
    """Return the Values in the order backward() processes them: step k handles the k-th."""
    return _backward_order([root]) if root.requires_grad else []


def _grads_after(root, step):
    """Replay the first step steps of root.backward() on the side: return ({node: grad}, node at step)."""
    order = backward_steps(root)
    if step is None:
        return {v: v.grad for v in _all_nodes([root])}, None
    if not isinstance(step, int) or not 0 <= step <= len(order):
        raise ValueError(f"step must be an int from 0 to {len(order)} (the backward pass has "
                         f"{len(order)} steps), got {step!r}")
    grads = {root: 1.0} if root.requires_grad else {}
    for v in order[:step]:
        for p, d in _local_grads(v, grads.get(v, 0.0)):
            if p.requires_grad:
                grads[p] = grads.get(p, 0.0) + d
    return grads, order[step - 1] if step else root


def _num(x):
    """A number in a compact form for drawings."""
    return "—" if x is None else f"{float(x):.4g}"


def _names(nodes):
    """Name each node: its label, else its op and a number."""
    return {v: v.label or f"{v._op or ('const' if not v.requires_grad else 'leaf')}#{i}"
            for i, v in enumerate(nodes)}


def graph_text(root, step=None):
    """Return the graph as text, parents indented under each Value, with op, data and grad.

    A Value used twice gets its full line once and "(shown above)" after that;
    past depth 20 the indentation stops growing and the depth is written out.
    """
    nodes = _all_nodes([root])
    grads, current = _grads_after(root, step)
    names = _names(nodes)
    lines, shown, stack = [], set(), [(root, 0)]
    while stack:
        v, depth = stack.pop()
        indent = "  " * depth if depth <= 20 else "  " * 20 + f"[depth {depth}] "
        mark = "  <- step" if v is current and step is not None else ""
        if v in shown:
            lines.append(f"{indent}{names[v]} (shown above)")
            continue
        shown.add(v)
        kind = f"= {v._op}(" + ", ".join(names[p] for p in v._prev) + ")" if v._prev else \
            ("constant" if not v.requires_grad else "leaf")
        lines.append(f"{indent}{names[v]} {kind}  data {_num(v.data)}  grad {_num(grads.get(v))}{mark}")
        stack.extend((p, depth + 1) for p in reversed(v._prev))
    return "\n".join(lines)


_GRAPHVIZ_HINT = ("the drawing needs the Graphviz program `dot`: install it with your system's "
                  "package manager (apt-get install graphviz, brew install graphviz, conda install graphviz)")


def _record(text):
    """Escape text for a Graphviz record label."""
    return "".join("\\" + c if c in "{}|<>\\\"" else c for c in str(text))


def draw_dot(root, rankdir="LR", format="svg", step=None, max_nodes=10_000):
    """Return a graphviz.Digraph of everything root depends on, drawn from inputs to root.

    Each Value is a record (label | data | grad); each op is a small node of its own.
    Leaves that learn are blue, constants grey and dashed. With step=k, the graph
    shows the gradients after the first k steps of the backward pass, the node
    being processed in red. Raises ImportError without the graphviz package, and
    ValueError for a graph of more than max_nodes Values.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError('draw_dot needs the graphviz Python package: pip install "tinygrad_scalar[viz]" '
                          '(and the Graphviz program itself, e.g. apt-get install graphviz)') from None
    nodes = _all_nodes([root])
    if len(nodes) > max_nodes:
        raise ValueError(f"draw_dot: the graph has {len(nodes)} Values, more than max_nodes={max_nodes}: "
                         f"too big to draw usefully; draw a smaller expression or raise max_nodes")
    grads, current = _grads_after(root, step)
    dot = _drawing_class(graphviz)(format=format, graph_attr={"rankdir": rankdir})
    dot._root, dot._step, dot._size = root, step, len(nodes)
    uids = {v: f"v{i}" for i, v in enumerate(nodes)}   # stable names: the same drawing every run
    for v in nodes:
        uid = uids[v]
        style = {"shape": "record", "fontsize": "11"}
        if not v.requires_grad:
            style.update(style="dashed,filled", fillcolor="#eeeeee", color="#888888")
        elif not v._prev:
            style.update(style="filled", fillcolor="#dbeafe")
        if step is not None and v is current:
            style.update(color="red", penwidth="2.5")
        fields = ([_record(v.label)] if v.label else []) + [f"data {_num(v.data)}", f"grad {_num(grads.get(v))}"]
        dot.node(uid, "{ " + " | ".join(fields) + " }", **style)
        if v._prev:
            dot.node(uid + "op", _record(v._op), shape="circle", fontsize="10", width="0.3", margin="0.02")
            dot.edge(uid + "op", uid)
            for p in v._prev:
                dot.edge(uids[p], uid + "op")
    return dot


_drawing_classes = {}


def _drawing_class(graphviz):
    """A graphviz.Digraph that shows the text view, not a traceback, when `dot` is missing."""
    if "cls" not in _drawing_classes:
        class Drawing(graphviz.Digraph):
            def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
                try:
                    return super()._repr_mimebundle_(include, exclude, **kwargs)
                except graphviz.ExecutableNotFound:
                    return {"text/plain": f"{graph_text(self._root, self._step)}\n({_GRAPHVIZ_HINT})"}

            def __repr__(self):
                return f"<draw_dot drawing of {self._size} Values>"
        Drawing.__qualname__ = Drawing.__name__ = "Drawing"
        _drawing_classes["cls"] = Drawing
    return _drawing_classes["cls"]


################ Demo: python tinygrad_scalar.py

def train_moons(steps=200, n=100, seed=1, progress=True):
    """Train MLP(2, [16, 16, 1]) on two-moons, as micrograd's demo does; return (model, accuracy)."""
    X, y = make_moons(n, noise=0.1, seed=seed)
    labels = [2 * t - 1 for t in y]                  # hinge loss wants -1 and +1
    model = MLP(2, [16, 16, 1], activation="relu", seed=seed)
    params = model.parameters()
    opt = SGD(params, lr=1.0)
    bar = _progress_bar(steps) if progress else None
    for k in range(steps + 1):
        scores = [model(x) for x in X]
        loss = hinge_loss(scores, labels) + 1e-4 * vsum(p * p for p in params)
        accuracy = sum((s.data > 0) == (t > 0) for s, t in zip(scores, labels)) / n
        if bar:
            bar(k, loss.data, accuracy)
        if accuracy == 1.0 or k == steps:          # the model returned is the one just measured
            break
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / steps               # learning-rate decay
        opt.step()
    if bar:
        bar.close()
    return model, accuracy


def _progress_bar(total):
    """Report training progress: a tqdm bar if tqdm is installed, else one updating line."""
    try:
        from tqdm import tqdm
        t = tqdm(total=total, desc="training", unit="step")

        def update(k, loss, acc):
            t.update(k - t.n)
            t.set_postfix(loss=f"{loss:.4f}", accuracy=f"{acc:.0%}")
        update.close = t.close
    except ImportError:
        def update(k, loss, acc):
            print(f"\rstep {k:3d}/{total}  loss {loss:.4f}  accuracy {acc:6.1%}", end="", flush=True)
        update.close = print
    return update


def main():
    """Differentiate the course notes' example, check it numerically, then train a small MLP."""
    def f(x1, x2):
        return (x1 * x2 * (x1 + x2)).log() / (x1 - x2) ** 2

    x1, x2 = Value(2.0, label="x1"), Value(10.0, label="x2")
    out = f(x1, x2)
    out.backward()
    print("f(x1, x2) = log(x1·x2·(x1 + x2)) / (x1 − x2)²  at x1 = 2, x2 = 10")
    print(f"  value              {out.data:.10f}")
    for i, x in enumerate((x1, x2)):
        numeric = central_difference(f, 2.0, 10.0, arg=i)
        print(f"  ∂f/∂{x.label}  autodiff {x.grad: .10f}   central difference {numeric: .10f}")
    print("\nTraining MLP(2, [16, 16, 1]) on two-moons (hinge loss, SGD):")
    model, accuracy = train_moons()
    print(f"training accuracy: {accuracy:.0%}")
    return accuracy


if __name__ == "__main__":
    main()
