"""tinygrad_scalar: automatic differentiation for scalars, in one readable file.

Every number you compute with is a Value. Each operation on Values returns a new
Value that keeps its parents and a small function, its _backward closure, that
applies the chain rule at that one node; backward() calls those closures from
the output back to the inputs.

    >>> from tinygrad_scalar import Value
    >>> x = Value(2.0, label="x")
    >>> y = Value(3.0, label="y")
    >>> f = x * x * y + 2 * y          # f(x, y) = x²y + 2y
    >>> f.backward()
    >>> f.data, x.grad, y.grad         # ∇f = (2xy, x² + 2)
    (18.0, 12.0, 6.0)

Read top to bottom: the Value class with its ops, backward() and the graph
order; then the calculus tools (numerical checks, grad, jvp, jacobian,
hessian), custom functions, neural networks and optimizers, jit, drawing, and
the demo.
"""

import argparse
import collections
import functools
import gc
import inspect
import math
import numbers
import operator
import os
import random
import re
import sys
import threading

__version__ = "0.2.0"

__all__ = [
    "Value", "no_grad", "enable_grad", "vsum", "dot", "logsumexp",
    "central_difference", "gradcheck", "GradcheckError", "derivative", "grad",
    "value_and_grad", "gradients_by_label", "jvp", "jacobian", "hessian",
    "Context", "ScalarFunction",
    "Module", "Neuron", "Layer", "MLP", "SGD", "Adam",
    "mse_loss", "hinge_loss", "binary_cross_entropy_with_logits", "cross_entropy",
    "make_moons", "make_linear", "jit", "jit_loss",
    "draw_dot", "backward_steps", "graph_text", "train_moons",
]


################ Value: a number that remembers how it was made, and how to pass gradients back

class Value:
    """A scalar that records the operations applied to it, for backpropagation."""

    __slots__ = (
        "data",           # the number itself, a Python float
        "grad",           # d(output)/d(this) after output.backward(); 0.0 before
        "requires_grad",  # False for constants: no gradient flows into them
        "label",          # an optional name, shown by repr and the drawings
        "_prev",          # the parents it was made from, in argument order: (a*a)._prev == (a, a)
        "_backward",      # the chain rule at this node: g = d(output)/d(this) in, one gradient per parent out
        "_op",            # the name of the op that made it ("" for a leaf), for drawings
    )

    def __init__(self, data, label="", requires_grad=True):
        if data.__class__ is not float:            # ints, Fractions, numpy numbers... as a float
            if isinstance(data, Value):
                raise TypeError(f"Value: expected a real number, got {data!r}; use v.detach() for a constant copy")
            data = _value(data, "Value").data
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {label!r}")
        self.data = data
        self.grad = 0.0
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._prev = ()
        self._backward = _no_parents
        self._op = ""

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---------------- primitive ops: compute the number, write the closure, return
    # Each op reads its operands' numbers x, y and makes a fresh _backward closure.
    # The closure takes g = d(output)/d(result) and returns g·(local derivative)
    # for each parent: the chain rule. It keeps the numbers it needs as default
    # arguments, so it never refers to the result itself (no reference cycle),
    # and a caller may pass other numbers in their place (see backward).

    def _operators(fn):
        """Make the pair a <op> b and b <op> a from fn(a, b) on two Values, fractions.py style."""
        op = fn.__doc__.split()[1]                  # "a * b" -> "*"

        def forward(a, b):
            if b.__class__ is not Value:
                b = _value(b, op, strict=False)
                if b is NotImplemented:
                    return b
            return fn(a, b)

        def reverse(b, a):
            a = _value(a, op, strict=False)
            return a if a is NotImplemented else fn(a, b)

        name = fn.__name__.strip("_")
        forward.__name__, reverse.__name__ = f"__{name}__", f"__r{name}__"
        forward.__qualname__, reverse.__qualname__ = f"Value.__{name}__", f"Value.__r{name}__"
        forward.__doc__ = reverse.__doc__ = fn.__doc__
        return forward, reverse

    def _add(a, b):
        "a + b"
        def _backward(g, *_):
            return g, g                                  # d(x+y)/dx = 1, d(x+y)/dy = 1
        return _node(a.data + b.data, (a, b), "+", _backward)

    def _sub(a, b):
        "a - b"
        def _backward(g, *_):
            return g, -g                                 # d(x-y)/dx = 1, d(x-y)/dy = -1
        return _node(a.data - b.data, (a, b), "-", _backward)

    def _mul(a, b):
        "a * b"
        def _backward(g, x=a.data, y=b.data):
            return g * y, g * x                          # d(xy)/dx = y, d(xy)/dy = x
        return _node(a.data * b.data, (a, b), "*", _backward)

    def _truediv(a, b):
        "a / b"
        if b.data == 0.0:
            raise ZeroDivisionError(f"/: division by zero: {a.data!r} / {b.data!r}")
        def _backward(g, x=a.data, y=b.data):
            return g / y, -(g / y) * (x / y)             # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y²
        return _node(a.data / b.data, (a, b), "/", _backward)

    def _pow(a, b):
        "a ** b"
        if b.requires_grad:
            def _backward(g, x=a.data, y=b.data):        # d(x^y)/dx = y·x^(y-1), d(x^y)/dy = x^y·ln x
                return _pow_dx(g, x, y), g * (_pw(x, y) * _ln(x))
        else:                                            # a constant exponent: no ln x, so any base works
            def _backward(g, x=a.data, y=b.data):
                return _pow_dx(g, x, y), 0.0
        return _node(_power(a.data, b.data), (a, b), "**", _backward)

    __add__, __radd__ = _operators(_add)
    __sub__, __rsub__ = _operators(_sub)
    __mul__, __rmul__ = _operators(_mul)
    __truediv__, __rtruediv__ = _operators(_truediv)
    __pow__, __rpow__ = _operators(_pow)
    del _operators, _add, _sub, _mul, _truediv, _pow

    def __neg__(a):
        """-x"""
        def _backward(g, *_):
            return (-g,)                                 # d(-x)/dx = -1
        return _node(-a.data, (a,), "neg", _backward)

    def __abs__(a):
        """|x|"""
        def _backward(g, x=a.data):
            return (g * ((x > 0) - (x < 0)),)           # d|x|/dx = sign x, 0 at 0
        return _node(abs(a.data), (a,), "abs", _backward)

    def relu(a):
        """max(x, 0)"""
        def _backward(g, x=a.data):
            return (g * (x > 0),)                        # d relu(x)/dx = 1 if x > 0 else 0
        return _node(0.0 if a.data <= 0.0 else a.data, (a,), "relu", _backward)   # nan stays nan

    def leaky_relu(a, slope=0.01):
        """x if x > 0 else slope·x"""
        s = _value(slope, "leaky_relu").data
        def _backward(g, x=a.data, s=s):
            return (g * ((x > 0) + s * (x <= 0)),)       # d/dx = 1 if x > 0 else slope
        return _node(a.data if a.data > 0.0 else s * a.data, (a,), "leaky_relu", _backward)

    def exp(a):
        """e^x"""
        def _backward(g, x=a.data):
            return (g * _exp(x),)                        # d e^x/dx = e^x
        return _node(_math(math.exp, a.data, "exp"), (a,), "exp", _backward)

    def log(a):
        """ln x, for x > 0"""
        def _backward(g, x=a.data):
            return (g / x,)                              # d ln x/dx = 1/x
        return _node(_math(math.log, a.data, "log", "x > 0"), (a,), "log", _backward)

    def sqrt(a):
        """√x, for x ≥ 0"""
        def _backward(g, x=a.data):
            return (_over(g, 2 * _sqrt(x)),)             # d√x/dx = 1/(2√x), +inf at 0
        return _node(_math(math.sqrt, a.data, "sqrt", "x >= 0"), (a,), "sqrt", _backward)

    def tanh(a):
        """tanh x"""
        def _backward(g, x=a.data):
            return (g * (1 - _tanh(x) ** 2),)            # d tanh x/dx = 1 - tanh²x
        return _node(math.tanh(a.data), (a,), "tanh", _backward)

    def sigmoid(a):
        """σ(x) = 1 / (1 + e^-x), computed stably"""
        def _backward(g, x=a.data):
            s = _sigmoid(x)
            return (g * s * (1 - s),)                    # dσ/dx = σ(x)(1 - σ(x))
        return _node(_sigmoid(a.data), (a,), "sigmoid", _backward)

    def softplus(a):
        """ln(1 + e^x), computed stably"""
        def _backward(g, x=a.data):
            return (g * _sigmoid(x),)                    # d softplus/dx = σ(x)
        x = a.data
        return _node(max(x, 0.0) + math.log1p(math.exp(-abs(x))), (a,), "softplus", _backward)

    def sin(a):
        """sin x"""
        def _backward(g, x=a.data):
            return (g * _cos(x),)                        # d sin x/dx = cos x
        return _node(_math(math.sin, a.data, "sin", "finite x"), (a,), "sin", _backward)

    def cos(a):
        """cos x"""
        def _backward(g, x=a.data):
            return (-g * _sin(x),)                       # d cos x/dx = -sin x
        return _node(_math(math.cos, a.data, "cos", "finite x"), (a,), "cos", _backward)

    # ---------------- derived ops: algebra on the primitives

    def square(a):
        """x²"""
        return a * a

    def __pos__(a):
        """+x: x itself"""
        return a

    # ---------------- backward: the chain rule over the whole graph

    def backward(self, gradient=None, *, create_graph=False):
        """Set .grad of everything this Value depends on to d(self)/d(it), seeding d(self)/d(self) = 1.

        gradient scales the seed (PyTorch's backward(gradient)). Leaves
        accumulate: a second call adds the same gradient again, as in PyTorch;
        Values in between get fresh gradients on every call. With
        create_graph=True the gradients are Values themselves, so they can be
        differentiated again; then x.grad depends on x, a reference cycle that
        only gc.collect() frees (as in PyTorch): grad() and hessian() give the
        same numbers without it. Raises RuntimeError if self is a constant.
        """
        if not self.requires_grad:
            raise RuntimeError(f"backward: {self!r} is a constant (requires_grad=False); "
                               f"no gradient can flow from it")
        if isinstance(gradient, bool):              # backward(True) meant create_graph before 0.2.0
            raise TypeError(f"backward: gradient must be a number, got {gradient!r}; "
                            f"create_graph is keyword-only: backward(create_graph=True)")
        seed = 1.0 if gradient is None else _value(gradient, "backward").data
        order = _backward_order([self])             # self first; each node before its parents
        for v in order:                             # gradients in between are recomputed, never compounded
            v.grad = 0.0
        if create_graph:
            return _backward_recorded(order, self, seed)
        self.grad += seed
        for v in order:                             # v's gradient is complete: everything that uses v came first
            for parent, g in zip(v._prev, v._backward(v.grad)):
                if parent.requires_grad:            # constants take no gradient
                    parent.grad += g

    def zero_grad(self):
        """Set to 0 the gradient of this Value and of every Value it depends on."""
        for v in _all_nodes([self]):
            v.grad = 0.0

    def detach(self):
        """Return a constant with the same number, cut off from the graph."""
        if _grad_mode.tracer is not None:           # inside jit: the number must not be baked in
            _grad_mode.tracer.read(self, "detach")
        return Value(self.data, self.label, requires_grad=False)

    # ---------------- plain-number behaviour: comparisons, conversions

    # Comparisons look at the numbers; == and hash stay identity, so Values
    # can be dict keys and set members (the graph walks rely on it). Inside
    # jit, _seen records each comparison as a guard on the branch taken.
    def __lt__(a, b):  return _seen(a, "<", b, a.data < _data(b))
    def __le__(a, b):  return _seen(a, "<=", b, a.data <= _data(b))
    def __gt__(a, b):  return _seen(a, ">", b, a.data > _data(b))
    def __ge__(a, b):  return _seen(a, ">=", b, a.data >= _data(b))
    __hash__ = object.__hash__

    def __float__(self):
        if _grad_mode.tracer is not None:           # inside jit: the number must not be baked in
            _grad_mode.tracer.read(self, "float")
        return self.data

    def __bool__(self):
        return _seen(self, "!=", 0.0, self.data != 0.0)

    def __format__(self, spec):
        return format(self.data, spec)


################ The graph order: who must be processed before whom

def _backward_order(roots):
    """Return the recorded Values the roots depend on, each before its parents (leaves left out).

    A depth-first search lists a node once all its parents are listed;
    reversed, that puts every node before its parents. The search keeps its own
    stack of (node, its parents still to visit), so there is no recursion and a
    million-op chain is fine. That stack holds an entry per level of a deep
    graph, short-lived objects the cyclic collector would otherwise rescan the
    whole heap for, so the collector is paused during the search (_gc_paused).
    """
    order, visited = [], set()
    with _gc_paused():
        for root in roots:
            if not root._prev or root in visited:
                continue
            visited.add(root)
            stack = [(root, iter(root._prev))]
            while stack:
                v, parents = stack[-1]
                for p in parents:                    # go down to the first parent not yet visited
                    if p._prev and p not in visited:
                        visited.add(p)
                        stack.append((p, iter(p._prev)))
                        break
                else:                                # all of v's parents are listed: list v
                    stack.pop()
                    order.append(v)
    order.reverse()
    return order


def _all_nodes(roots):
    """Return every Value the roots depend on, leaves included, each after its parents."""
    order = _backward_order(roots)
    order.reverse()
    seen = set(order)
    leaves = []
    for v in [r for r in roots if not r._prev] + [p for v in order for p in v._prev]:
        if v not in seen:
            seen.add(v)
            leaves.append(v)
    return leaves + order


def _backward_recorded(order, root, seed):
    """Run the backward pass on Values, recording it, for create_graph=True.

    Each closure is called with the parents themselves in place of the numbers
    it captured, so the same formula now builds graph: g * y becomes a Value
    that depends on y, and can be differentiated again.
    """
    with enable_grad():                              # create_graph asks for a graph, even inside no_grad
        root.grad = _value(seed, "backward") if root.grad == 0.0 else root.grad + seed
        for v in order:
            for p, g in zip(v._prev, v._backward(v.grad, *v._prev)):
                if p.requires_grad:
                    old = p.grad
                    p.grad = g if (old.__class__ is float and old == 0.0) else old + g


################ Making nodes: one constructor, one coercion helper

def _node(data, parents, op, backward):
    """Return the Value op made from parents; record its parents and closure if any of them learns."""
    out = Value.__new__(Value)                       # data is already a float: skip __init__'s checks
    out.data, out.grad, out.label = data, 0.0, ""
    if _grad_mode.enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad, out._prev, out._backward, out._op = True, parents, backward, op
                if _grad_mode.tracer is not None:   # jit is tracing: it notes the nodes in the order made
                    _grad_mode.tracer.note(out)
                return out
    out.requires_grad, out._prev, out._backward, out._op = False, (), _no_parents, ""
    return out                                       # nothing upstream learns: a constant


def _no_parents(g, *_):
    """The _backward of a leaf or a constant: no parents, nothing to pass on."""
    return ()


_NOT_NUMBERS = (str, bytes, complex, type(None), list, tuple, dict, set)


def _value(x, op, strict=True):
    """Return x as a Value for op: a real number becomes a constant.

    Anything else raises TypeError naming op and x; with strict=False, a type
    this library does not know gives NotImplemented instead, so Python can ask
    the other operand (numpy arrays of Values rely on it).
    """
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        try:
            return Value(float(x), requires_grad=False)
        except OverflowError:
            raise OverflowError(f"{op}: {x!r} is too large for a float") from None
    if type(x).__module__ == "numpy" and type(x).__name__ in ("bool_", "bool"):
        return Value(float(x), requires_grad=False)  # numpy's bool, unlike Python's, is not a numbers.Real
    if not strict and not isinstance(x, _NOT_NUMBERS):
        return NotImplemented
    raise TypeError(f"{op}: expected a real number or a Value, got {x!r} ({type(x).__name__})")


def _data(x):
    """The number behind a comparison operand."""
    return x.data if isinstance(x, Value) else x


def _seen(a, op, b, outcome):
    """Return the outcome of the comparison a op b; a jit trace records it as a guard."""
    if _grad_mode.tracer is not None:
        _grad_mode.tracer.guard(a, op, b, outcome)
    return outcome


################ Numbers in closures, and the ops' float arithmetic with errors that name the op
# A closure reads floats in an ordinary backward pass and Values when
# create_graph=True records it: each helper below handles both.

def _exp(x):      return math.exp(x) if x.__class__ is float else x.exp()
def _sqrt(x):     return math.sqrt(x) if x.__class__ is float else x.sqrt()
def _tanh(x):     return math.tanh(x) if x.__class__ is float else x.tanh()
def _sin(x):      return math.sin(x) if x.__class__ is float else x.sin()
def _cos(x):      return math.cos(x) if x.__class__ is float else x.cos()
def _sinh(x):     return math.sinh(x) if x.__class__ is float else x.sinh()
def _cosh(x):     return math.cosh(x) if x.__class__ is float else x.cosh()


def _sigmoid(x):
    """σ(x) = 1 / (1 + e^-x), computed without overflow for any finite x."""
    if x.__class__ is not float:
        return x.sigmoid()
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _ln(x):
    """ln x for d(x^y)/dy: 0 at x = 0 (PyTorch's convention); ValueError for x < 0."""
    a = float(x)
    if a == 0.0:
        return 0.0
    if a < 0.0:
        raise ValueError(f"**: the derivative with respect to the exponent needs a positive base "
                         f"(it is z·ln x), got x = {a!r}")
    return x.log() if isinstance(x, Value) else math.log(x)


def _over(g, d):
    """Return g / d, reading d = ±0 as an infinite slope: ±inf as IEEE division gives it, or 0 when g = 0."""
    if float(d) != 0.0:
        return g / d
    return g * math.copysign(math.inf, float(d)) if float(g) != 0.0 else g * 0.0


def _pow_dx(g, x, y):
    """Return g·y·x^(y-1), as PyTorch does: 0 for y = 0 (x^0 is 1 for every x), an infinite slope at x = 0 for y < 1."""
    if float(y) == 0.0:
        return g * 0.0
    if float(x) == 0.0 and float(y) < 1.0:           # ±0^(y-1) is infinite: -inf only for -0 to an odd power
        odd = float(y - 1) % 2.0 == 1.0
        return _over(g * y * (math.copysign(1.0, float(x)) if odd else 1.0), 0.0)
    p = _pw(x, y - 1)                                # x^(y-1) first: g·y alone may overflow
    if math.isinf(float(p)) and math.isfinite(float(x)):   # the slope is beyond the floats: ±inf
        return _over(g * y * math.copysign(1.0, float(p)), 0.0)
    return g * (y * p)


def _pw(x, y):
    """x ** y on floats or on Values (for the closures)."""
    return _power(x, y) if x.__class__ is float else x ** y


def _power(x, y):
    """x ** y on floats, never complex: errors name ** and both numbers; ±inf beyond the float range, as x * x."""
    if x < 0.0 and math.isfinite(x) and math.isfinite(y) and not y.is_integer():
        raise ValueError(f"**: a negative base to a non-integer power has no real value: {x!r} ** {y!r}")
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"**: 0.0 cannot be raised to the negative power {y!r}")
    try:
        return x ** y
    except OverflowError:                            # Python raises here, while x * x gives inf: give inf too
        return -math.inf if x < 0.0 and y % 2.0 == 1.0 else math.inf


def _math(fn, x, op, domain=""):
    """Return fn(x), turning math's bare errors into ones that name op, x and the domain."""
    try:
        return fn(x)
    except OverflowError:
        raise OverflowError(f"{op}: the result for x = {x!r} is too large for a float") from None
    except ValueError:
        raise ValueError(f"{op}: defined for {domain}, got x = {x!r}" if domain else
                         f"{op}: not defined for x = {x!r}") from None


################ More of Value: math's other functions, and PyTorch's names
# The rest of math's functions of one variable, in the rhythm of exp and sin,
# and the names PyTorch users reach for. They are Value methods like the others;
# they are written here, after the engine, so that the tutorial part stays short,
# and attached to the class in plain view below.

class _MoreMath:
    """math's other functions of one variable, as Value methods."""

    def tan(a):
        """tan x"""
        def _backward(g, x=a.data):
            return (g / _cos(x) ** 2,)                   # d tan x/dx = 1/cos²x
        return _node(_math(math.tan, a.data, "tan", "finite x"), (a,), "tan", _backward)

    def sinh(a):
        """sinh x"""
        def _backward(g, x=a.data):
            return (g * _cosh(x),)                       # d sinh x/dx = cosh x
        return _node(_math(math.sinh, a.data, "sinh"), (a,), "sinh", _backward)

    def cosh(a):
        """cosh x"""
        def _backward(g, x=a.data):
            return (g * _sinh(x),)                       # d cosh x/dx = sinh x
        return _node(_math(math.cosh, a.data, "cosh"), (a,), "cosh", _backward)

    def asin(a):
        """arcsin x, for -1 ≤ x ≤ 1"""
        def _backward(g, x=a.data):
            return (_over(g, _sqrt((1 - x) * (1 + x))),) # d asin x/dx = 1/√(1-x²), +inf at ±1
        return _node(_math(math.asin, a.data, "asin", "-1 <= x <= 1"), (a,), "asin", _backward)

    def acos(a):
        """arccos x, for -1 ≤ x ≤ 1"""
        def _backward(g, x=a.data):
            return (_over(-g, _sqrt((1 - x) * (1 + x))),)  # d acos x/dx = -1/√(1-x²), -inf at ±1
        return _node(_math(math.acos, a.data, "acos", "-1 <= x <= 1"), (a,), "acos", _backward)

    def atan(a):
        """arctan x"""
        def _backward(g, x=a.data):
            return (g / (1 + x * x),)                    # d atan x/dx = 1/(1+x²)
        return _node(_math(math.atan, a.data, "atan"), (a,), "atan", _backward)

    def asinh(a):
        """arsinh x"""
        def _backward(g, x=a.data):
            return (g / _sqrt(x * x + 1),)               # d asinh x/dx = 1/√(x²+1)
        return _node(_math(math.asinh, a.data, "asinh"), (a,), "asinh", _backward)

    def acosh(a):
        """arcosh x, for x ≥ 1"""
        def _backward(g, x=a.data):
            return (_over(g, _sqrt((x - 1) * (x + 1))),) # d acosh x/dx = 1/√(x²-1), +inf at 1
        return _node(_math(math.acosh, a.data, "acosh", "x >= 1"), (a,), "acosh", _backward)

    def atanh(a):
        """artanh x, for -1 < x < 1"""
        def _backward(g, x=a.data):
            return (g / ((1 - x) * (1 + x)),)            # d atanh x/dx = 1/(1-x²)
        return _node(_math(math.atanh, a.data, "atanh", "-1 < x < 1"), (a,), "atanh", _backward)

    def log2(a):
        """log₂ x, for x > 0"""
        def _backward(g, x=a.data):
            return (g / (x * math.log(2.0)),)            # d log₂x/dx = 1/(x ln 2)
        return _node(_math(math.log2, a.data, "log2", "x > 0"), (a,), "log2", _backward)

    def log10(a):
        """log₁₀ x, for x > 0"""
        def _backward(g, x=a.data):
            return (g / (x * math.log(10.0)),)           # d log₁₀x/dx = 1/(x ln 10)
        return _node(_math(math.log10, a.data, "log10", "x > 0"), (a,), "log10", _backward)

    def log1p(a):
        """ln(1 + x), for x > -1, exact for tiny x"""
        def _backward(g, x=a.data):
            return (g / (1 + x),)                        # d ln(1+x)/dx = 1/(1+x)
        return _node(_math(math.log1p, a.data, "log1p", "x > -1"), (a,), "log1p", _backward)

    def expm1(a):
        """e^x - 1, exact for tiny x"""
        def _backward(g, x=a.data):
            return (g * _exp(x),)                        # d(e^x - 1)/dx = e^x
        return _node(_math(math.expm1, a.data, "expm1"), (a,), "expm1", _backward)


class _PyTorchNames:
    """PyTorch's names for the same things, so its habits work here too."""

    def __int__(self):
        return int(self.data)

    def __round__(self, ndigits=None):
        """round(v) is an int and round(v, n) a float, as for the number itself (no graph)."""
        return round(self.data, ndigits)

    def item(self):
        """The number, as a Python float (PyTorch's name for .data)."""
        return self.data

    @property
    def is_leaf(self):
        """True unless an op that something learns from made this Value (PyTorch's meaning)."""
        return not self._prev

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place and return self; only a leaf can stop requiring grad, as in PyTorch."""
        if not requires_grad and self._prev:
            raise RuntimeError(f"requires_grad_: {self!r} was made by an op ({self._op}); only a leaf "
                               f"can stop requiring grad: use detach() for a constant copy")
        self.requires_grad = bool(requires_grad)
        return self


M, T = _MoreMath, _PyTorchNames
Value.tan, Value.sinh, Value.cosh, Value.asin, Value.acos, Value.atan = M.tan, M.sinh, M.cosh, M.asin, M.acos, M.atan
Value.asinh, Value.acosh, Value.atanh = M.asinh, M.acosh, M.atanh
Value.log2, Value.log10, Value.log1p, Value.expm1 = M.log2, M.log10, M.log1p, M.expm1
Value.__int__, Value.__round__, Value.item, Value.is_leaf, Value.requires_grad_ = (
    T.__int__, T.__round__, T.item, T.is_leaf, T.requires_grad_)
del M, T


################ Grad mode: no_grad and enable_grad

class _GradMode(threading.local):
    transforms = 0                     # grad transforms whose function is running, per thread
    tracer = None                      # the jit trace recording on this thread, if any

    def __init__(self):
        self.enabled = True            # False inside `with no_grad():`, per thread
        self.saved = []                # the blocks open on this thread, innermost last


_grad_mode = _GradMode()
_grad_mode_lock = threading.RLock()    # reentrant: a generator finalized by the collector inside may close a block


class _Block:
    """One open `with no_grad():` block: who opened it, the mode it replaced, and its thread's mode."""

    __slots__ = ("owner", "previous", "mode")

    def __init__(self, owner, previous, mode):
        self.owner, self.previous, self.mode = owner, previous, mode


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
        if not self.enabled and _grad_mode.tracer is not None:
            raise RuntimeError("jit: no_grad inside a jitted function would bake the numbers it computes "
                               "into the generated code; jit already records no graph when it runs")
        mode = _grad_mode.__dict__     # this thread's own dict: the block can restore it from any thread
        block = _Block(self, mode["enabled"], mode)
        with _grad_mode_lock:
            mode["saved"].append(block)
            self.__dict__.setdefault("_open", []).append(block)
            mode["enabled"] = self.enabled
        return self

    def __exit__(self, *exc):
        with _grad_mode_lock:
            saved = _grad_mode.saved
            if saved and saved[-1].owner is self:    # the usual case: the innermost block on this thread
                block = saved.pop()
                _grad_mode.enabled = block.previous
                self._open.remove(block)
            else:                                    # a generator suspended in the block, resumed elsewhere
                _close_elsewhere(self)
        return False

    def __call__(self, fn):
        mode = type(self)
        if inspect.isgeneratorfunction(fn):
            return _generator_under(mode, fn)

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with mode():
                return fn(*args, **kwargs)
        return wrapped


class enable_grad(no_grad):
    """Record the graph inside `with enable_grad():`, even within no_grad (on this thread)."""

    enabled = True


def _close_elsewhere(owner):
    """Close owner's newest open block, found on this thread or another: restore that thread's mode.

    Each open block remembers the mode it replaced. Closing the innermost block
    of a thread puts that mode back; closing one further down hands its mode to
    the block just inside it, which puts it back when it closes in turn.
    """
    blocks = owner.__dict__.get("_open", [])
    if not blocks:
        raise RuntimeError(f"{type(owner).__name__}: __exit__ without a matching __enter__")
    here = [b for b in blocks if b.mode is _grad_mode.__dict__]
    block = (here or blocks)[-1]                     # this thread's newest block of owner, else the newest
    blocks.remove(block)
    saved = block.mode["saved"]
    i = next(k for k, b in enumerate(saved) if b is block)
    if i == len(saved) - 1:
        block.mode["enabled"] = block.previous
    else:
        saved[i + 1].previous = block.previous
    del saved[i]


def _generator_under(mode, fn):
    """Wrap the generator function fn so that its body runs under mode, as PyTorch wraps generators.

    Each resume (next, send, throw, close) runs inside `with mode():`; each
    yield hands back to the caller in the caller's own mode.
    """
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with mode():
            gen = fn(*args, **kwargs)
        resume, sent = gen.send, None
        while True:
            try:
                with mode():
                    out = resume(sent)
            except StopIteration as stop:
                return stop.value
            try:
                sent, resume = (yield out), gen.send
            except GeneratorExit:
                with mode():
                    gen.close()
                raise
            except BaseException as e:
                sent, resume = e, gen.throw
    return wrapped


################ Fused ops: one node for a whole sum, dot product or log-sum-exp

def _values(xs, op):
    """Return xs as a tuple of Values for op (numbers become constants)."""
    return tuple([x if x.__class__ is Value else _value(x, op) for x in xs])


def vsum(values):
    """Return the sum of many Values as a single node (faster than a chain of +)."""
    xs = _values(values, "sum")
    def _backward(g, *_, n=len(xs)):
        return (g,) * n                                  # d(Σxi)/dxi = 1
    return _node(sum([x.data for x in xs], 0.0), xs, "sum", _backward)


def dot(w, x, bias=0.0):
    """Return Σ wi·xi + bias as a single node: a neuron's w·x + b."""
    w, x = list(w), list(x)
    if len(w) != len(x):
        raise ValueError(f"dot: the two sequences differ in length ({len(w)} and {len(x)})")
    return _dot(_values(w + x + [bias], "dot"), len(w))


def _dot(parents, n):
    """dot() on parents = (w1..wn, x1..xn, b), all Values already."""
    numbers = [p.data for p in parents]
    def _backward(g, *wxb, n=n, numbers=numbers):
        wxb = wxb or numbers                             # d(w·x + b)/dwi = xi, /dxi = wi, /db = 1
        return [g * xi for xi in wxb[n:2 * n]] + [g * wi for wi in wxb[:n]] + [g]
    return _node(sum(map(operator.mul, numbers[:n], numbers[n:2 * n]), 0.0) + numbers[-1],
                 parents, "dot", _backward)


def logsumexp(values):
    """Return ln Σ e^xi as a single node, computed without overflow."""
    xs = _values(values, "logsumexp")
    if not xs:
        raise ValueError("logsumexp: needs at least one value")
    def _backward(g, *xs, numbers=[x.data for x in xs]):
        xs = xs or numbers
        z = _lse(xs)
        return [g * _exp(x - z) for x in xs]             # d lse/dxi = e^(xi - lse) = softmax_i
    return _node(_lse([x.data for x in xs]), xs, "logsumexp", _backward)


def _lse(xs):
    """ln Σ e^xi on floats, or as a Value when the xs are Values."""
    if any(x.__class__ is not float for x in xs):
        return logsumexp(xs)
    if any(map(math.isnan, xs)):
        return math.nan
    m = max(xs)
    if math.isinf(m):
        return m
    return m + math.log(sum([math.exp(x - m) for x in xs], 0.0))


################ Calculus tools: numerical checks, grad, forward mode, Jacobians, Hessians

def _call(f, args, op):
    """Call f(*args) and return its output as a Value (a number is a constant), or raise TypeError naming op."""
    out = f(*args)
    if isinstance(out, bool) or not isinstance(out, (Value, numbers.Real)):
        raise TypeError(f"{op}: f must return a single Value or number (a scalar), got {out!r}")
    return _value(out, op)


def _float_of(f, xs):
    """Evaluate f at the floats xs, recording no graph; return a float."""
    with no_grad():
        return _call(f, [Value(x, requires_grad=False) for x in xs], "central_difference").data


def central_difference(f, *args, arg=0, epsilon=1e-6):
    """Return ∂f/∂args[arg] ≈ (f(x + ε) − f(x − ε)) / 2ε, leaving every .grad as it was."""
    if isinstance(arg, bool) or not isinstance(arg, int) or not 0 <= arg < len(args):
        raise IndexError(f"central_difference: arg={arg!r} is out of range for {len(args)} argument(s)")
    xs = [_value(a, "central_difference").data for a in args]
    up, down = xs[:], xs[:]
    up[arg] += epsilon
    down[arg] -= epsilon
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
            a = _value(a, op)
            a = _input(a) if a.requires_grad else Value(a.data)   # inside another grad: stay connected
        elif isinstance(a, numbers.Real) and not isinstance(a, bool):
            a = _value(a, op)
        wrapped.append(a)
    return wrapped


def _traced_call(f, args, op):
    """Return _call(f, args, op), letting any grad that f itself calls know that it is nested."""
    _grad_mode.transforms += 1
    try:
        return _call(f, args, op)
    finally:
        _grad_mode.transforms -= 1


def _input(a):
    """Return a fresh variable equal to a and connected to a's graph."""
    def _backward(g, *_):
        return (g,)                                      # dx/dx = 1
    return _node(a.data, (a,), "input", _backward)


def value_and_grad(f, argnums=0):
    """Return a function computing (f(*args), ∂f/∂args[argnums]), as jax.value_and_grad does.

    Plain numbers in, plain floats out. Called inside another grad's function,
    it returns Values, so that the outer grad can differentiate the result again.
    """
    def value_and_grad_f(*args):
        nums = _argnums(argnums, len(args), "grad")
        nested = _grad_mode.transforms > 0            # inside another transform's function
        with enable_grad():            # a transform records its graph even inside no_grad
            inputs = _inputs(args, nums, "grad")
            out = _traced_call(f, inputs, "grad")
            grads = _gradients(out, [inputs[i] for i in nums], create_graph=nested)
        if nested:
            grads = [_value(g, "grad") for g in grads]
        else:
            out, grads = out.data, [float(g) for g in grads]
        return out, grads[0] if isinstance(argnums, int) else tuple(grads)
    value_and_grad_f.__name__ = f"value_and_grad_{getattr(f, '__name__', 'f')}"
    value_and_grad_f._transform = (f, argnums, "value_and_grad")   # what jit traces and writes out
    return value_and_grad_f


def grad(f, argnums=0):
    """Return a function computing ∂f/∂args[argnums], as jax.grad does (an int or a tuple)."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args):
        return vg(*args)[1]
    grad_f.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    grad_f._transform = (f, argnums, "grad")
    return grad_f


def derivative(f):
    """Return f′, the derivative of a function of one number, as a function float → float."""
    return grad(f, 0)


def gradients_by_label(out):
    """Return {label: d(out)/d(leaf)} for every labelled leaf out depends on."""
    leaves = [v for v in _all_nodes([out]) if not v._prev and v.label and v.requires_grad]
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
    floats = [_value(a, "gradcheck").data for a in args]
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

    tangent maps the input leaves to their tangents and gains an entry for each
    node that depends on them. The local derivatives come from the same closures
    that backward calls, called with g = 1. A zero local derivative passes
    nothing on, not even an infinite tangent: the mirror image of backward,
    where a zero gradient passes nothing through an infinite slope. So both
    modes give the same Jacobian.
    """
    for v in order:
        terms = [0.0 if d == 0.0 else d * tangent[p]
                 for p, d in zip(v._prev, v._backward(1.0)) if p in tangent]
        if terms:
            tangent[v] = sum(terms, 0.0)
    return tangent


def _trace(f, primals, op):
    """Record f at primals: return the input leaves, the outputs and the order parents-first."""
    inputs = [Value(_value(p, op).data) for p in primals]
    with enable_grad():
        _grad_mode.transforms += 1
        try:
            outs, single = _outputs(f(*inputs), op)
        finally:
            _grad_mode.transforms -= 1
    order = _backward_order(outs)
    order.reverse()
    return inputs, outs, single, order


def jvp(f, primals, tangents):
    """Return (f(primals), J·tangents) by forward mode, as jax.jvp does."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); "
                         f"there must be one tangent per primal")
    tangents = [_value(t, "jvp").data for t in tangents]
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
            t = _push_tangents(order, {inputs[j]: 1.0})      # only x_j moves: the others are not seeded
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
        inputs = [Value(_value(a, "hessian").data) for a in args]
        with enable_grad():
            out = _traced_call(f, inputs, "hessian")
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

    @property
    def saved_tensors(self):
        """The saved values, always as a tuple (PyTorch's name)."""
        return tuple(self._saved)

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
        """Run forward on the numbers inside args and record the result, with backward as its closure."""
        name = cls.__name__
        inputs = _values(args, name)
        ctx = Context()
        out = cls.forward(ctx, *[x.data for x in inputs])
        if isinstance(out, Value) or not isinstance(out, numbers.Real):
            raise TypeError(f"{name}.forward must return a real number, got {out!r}")

        def _backward(g, *_, cls=cls):               # the chain rule, as the class wrote it
            if g.__class__ is not float:
                raise RuntimeError(f"{name}: a ScalarFunction's backward works on floats, so "
                                   f"create_graph=True (higher derivatives) cannot pass through it")
            return _checked_gradients(cls, cls.backward(ctx, g), len(inputs))
        return _node(float(out), inputs, name, _backward)


def _checked_gradients(cls, grads, n):
    """Return what cls.backward gave as n floats, one per input, or raise naming cls."""
    if n == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) != n:
        raise ValueError(f"{cls.__name__}.backward returned {grads!r}: expected {n} gradient(s), "
                         f"one per input")
    grads = [0.0 if d is None else d for d in grads]   # None: no gradient for that input
    for d in grads:
        if isinstance(d, Value) or not isinstance(d, numbers.Real):
            raise TypeError(f"{cls.__name__}.backward returned {d!r} as a gradient: "
                            f"expected a real number")
    return tuple(float(d) for d in grads)


def _custom_class(backward):
    """The ScalarFunction subclass whose apply made this closure (kept as its cls=), or None for an engine op."""
    return (backward.__kwdefaults__ or {}).get("cls")


################ Copying and pickling a graph: flat records, closures made again on load
# A closure cannot be pickled, and pickling each Value inside its child would
# recurse once per op. So a Value is saved flat: the leaves it depends on, as
# ordinary objects, then one record per op above them, parents first, naming
# the op and the positions of its parents. Loading runs each op again on the
# loaded parents, which makes a fresh closure, and gives that closure back the
# numbers the old one kept (a ScalarFunction runs forward again with a fresh
# Context instead). copy.deepcopy takes the same path. Values pickled together
# share their leaves; each one's ops above the leaves are made again for it.

_REMAKE = {                            # ops that are not a Value method of the same name
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "**": operator.pow, "neg": operator.neg, "abs": abs, "input": lambda a: _input(a),
    "sum": lambda *xs: vsum(xs), "logsumexp": lambda *xs: logsumexp(xs),
    "dot": lambda *wxb: dot(wxb[:len(wxb) // 2], wxb[len(wxb) // 2:-1], wxb[-1]),
}


def _reduce_value(v):
    """Value.__reduce__: how pickle and copy save v (see above)."""
    state = (None, {"grad": v.grad, "requires_grad": v.requires_grad})
    if not v._prev:                                  # a leaf: its number and name, its grad set after
        return Value, (v.data, v.label), state
    order = _backward_order([v])
    order.reverse()                                  # parents first
    index, leaves, records = {}, [], []
    for u in order:
        for p in u._prev:
            if not p._prev and p not in index:
                index[p] = len(leaves)
                leaves.append(p)
    for u in order:
        index[u] = len(leaves) + len(records)
        cls = _custom_class(u._backward)             # a ScalarFunction's node, or None
        records.append((u._op, cls, [index[p] for p in u._prev], u.data, u.label,
                        None if u is v else u.grad, u.requires_grad,
                        None if cls else (u._backward.__defaults__, u._backward.__kwdefaults__)))
    return _remade, (leaves, records), state


def _remade(leaves, records):
    """Make a pickled graph again from its leaves and op records; return its last Value."""
    nodes = list(leaves)
    with enable_grad():
        for op, cls, parents, data, label, grad, requires_grad, numbers_kept in records:
            ps = [nodes[i] for i in parents]
            off = [p for p in ps if not p.requires_grad]
            if len(off) == len(ps):                  # every parent switched off after use: still an op
                for p in off:
                    p.requires_grad = True
            remake = cls.apply if cls else _REMAKE[op] if op in _REMAKE else getattr(Value, op)
            try:
                v = remake(*ps)
            except (ArithmeticError, ValueError):   # a leaf moved since the op ran (an optimizer step):
                v = remake(*[Value(1.0, requires_grad=p.requires_grad) for p in ps])   # a closure from 1s
                v._prev = tuple(ps)
            finally:
                for p in off:
                    p.requires_grad = False
            if numbers_kept:
                v._backward.__defaults__, v._backward.__kwdefaults__ = numbers_kept
            v.data, v.label, v.requires_grad = data, label, requires_grad
            if grad is not None:
                v.grad = grad
            nodes.append(v)
    return nodes[-1]


Value.__reduce__ = _reduce_value


################ Neural networks: Neuron, Layer, MLP, and their parameters

def _rng(seed):
    """Return what to draw from: a Random as given, a new Random(seed), or for None the random
    module itself, so random.seed(1337) beforehand makes the draws repeat (micrograd's habit)."""
    if seed is None or seed is random:
        return random
    return seed if isinstance(seed, random.Random) else random.Random(seed)


class _gc_paused:
    """Pause the cyclic garbage collector for a block, restoring it after.

    The graph this library builds has no reference cycles, so nothing is lost:
    reference counting frees it. This only saves the collector's scans of a
    graph that is still growing. Blocks on several threads share one pause:
    the first to enter records whether the collector was on and turns it off,
    the last to leave turns it back on (a lock makes that count race-free).
    """

    _lock = threading.Lock()
    _active = 0                        # blocks inside, over all threads
    _was_enabled = False               # the collector's state when the first of them entered

    def __enter__(self):
        with _gc_paused._lock:
            if _gc_paused._active == 0:
                _gc_paused._was_enabled = gc.isenabled()
                gc.disable()
            _gc_paused._active += 1

    def __exit__(self, *exc):
        with _gc_paused._lock:
            _gc_paused._active -= 1
            if _gc_paused._active == 0 and _gc_paused._was_enabled:
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

    def named_parameters(self):
        """Yield (name, Value) in parameters() order; a name is the Value's place in state_dict():
        "layers.0.weight[3][1]" is state_dict()["layers.0.weight"][3][1]."""
        names = {id(p): name for key, tree in self._named().items() for name, p in _paths(tree, key)}
        for p in self.parameters():
            yield names[id(p)], p

    def state_dict(self):
        """Return the parameters as plain, JSON-serialisable data, named as in PyTorch."""
        return _map_tree(lambda p: p.data, self._named())

    def load_state_dict(self, state):
        """Set the parameters from state_dict() data; a wrong shape changes nothing and raises."""
        named = self._named()
        _check_state(_map_tree(lambda p: p.data, named), state, type(self).__name__)
        numbers_in = [_value(x, "load_state_dict").data for x in _flatten(state, named)]   # all, before any is set
        for p, x in zip(_flatten(named, named), numbers_in):
            p.data = x


def _map_tree(fn, tree):
    """Apply fn to every Value in a tree of dicts and lists."""
    if isinstance(tree, dict):
        return {k: _map_tree(fn, v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_map_tree(fn, v) for v in tree]
    return fn(tree)


def _paths(tree, name):
    """Yield (name[i][j]..., Value) for every Value in a tree of lists."""
    if isinstance(tree, list):
        for i, t in enumerate(tree):
            yield from _paths(t, f"{name}[{i}]")
    else:
        yield name, tree


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
    return _values(x, where)


def _activation(activation, nonlin, where):
    """Return the activation's name, reading micrograd's nonlin=True/False as "relu"/"none"."""
    if nonlin is not None:
        if not isinstance(nonlin, bool):
            raise TypeError(f"{where}: nonlin must be True (ReLU) or False (linear), got {nonlin!r}")
        if activation != "relu":
            raise ValueError(f"{where}: give activation={activation!r} or nonlin={nonlin!r}, not both")
        activation = "relu" if nonlin else "none"
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of 'relu', 'tanh', 'sigmoid', 'none'; "
                         f"got {activation!r}")
    return activation if activation not in (None, "linear") else "none"


class Neuron(Module):
    """act(w·x + b): one weight per input, a bias, and an activation.

    Without seed the weights come from the random module (random.seed() repeats them).
    init="pytorch" draws w and b from uniform(±1/√nin) as nn.Linear does; init="micrograd"
    draws w from uniform(-1, 1) and sets b = 0. nonlin=True/False is micrograd's spelling
    of activation="relu"/"none".
    """

    def __init__(self, nin, activation="relu", seed=None, *, nonlin=None, init="pytorch"):
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        self.activation = _activation(activation, nonlin, "Neuron")
        if init not in ("pytorch", "micrograd"):
            raise ValueError(f"Neuron: init must be 'pytorch' or 'micrograd', got {init!r}")
        rng = _rng(seed)
        bound = 1.0 if init == "micrograd" else 1.0 / math.sqrt(nin)
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0 if init == "micrograd" else rng.uniform(-bound, bound))
        self._act = _ACTIVATIONS[self.activation]

    @property
    def nonlin(self):
        """micrograd's name: whether an activation follows w·x + b."""
        return self.activation != "none"

    def forward(self, x):
        return self._apply(_as_inputs(x, len(self.w), "Neuron"))

    def _apply(self, xs):
        out = _dot((*self.w, *xs, self.b), len(self.w))
        return self._act(out) if self._act else out

    def parameters(self):
        return self.w + [self.b]

    def _named(self):
        return {"weight": self.w, "bias": self.b}

    def __repr__(self):
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons side by side, all reading the same nin inputs."""

    def __init__(self, nin, nout, activation="relu", seed=None, *, nonlin=None, init="pytorch"):
        if not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        activation = _activation(activation, nonlin, "Layer")
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, rng, init=init) for _ in range(nout)]

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

    Hidden layers use the activation (nonlin=False: none); the last layer is linear, as in
    micrograd. seed and init as for Neuron.
    """

    def __init__(self, nin, nouts, activation="relu", seed=None, *, nonlin=None, init="pytorch"):
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise TypeError(f"MLP: nouts must be a list of layer widths such as [16, 16, 1], got {nouts!r}")
        nouts = list(nouts)
        activation = _activation(activation, nonlin, "MLP")
        rng = _rng(seed)
        sizes = [nin] + nouts
        self.layers = [Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "none", rng,
                             init=init) for i in range(len(nouts))]

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
        seen = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameter {i} is {p!r}, expected a Value")
            if p in seen:                            # it would be stepped twice per step()
                raise ValueError(f"{name}: parameter {i} ({p!r}) is listed more than once")
            seen.add(p)
        self.lr = _hyper(lr, name, "lr")

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
    return list(_values(preds, op)), list(_values(targets, op))


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
    x = _value(logits[target], "cross_entropy")
    return logsumexp(logits) - x


################ Data for demos and tests, in pure Python

def make_moons(n=100, noise=0.1, seed=None, *, n_samples=None):
    """Return (X, y): n points on two interleaving half circles, labels 0 and 1 (as scikit-learn's).

    n_samples is scikit-learn's name for n. Without seed the noise comes from the random module.
    """
    if n_samples is not None:
        if n not in (100, n_samples):
            raise ValueError(f"make_moons: give n={n!r} or n_samples={n_samples!r}, not both")
        n = n_samples
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


################ jit: trace once, run straight-line Python
# jit(f) runs f once on Values, as grad does, and reads the graph it made. It
# writes one line of Python per op for the forward pass, from the table
# _FORWARD; for gradients it then calls each node's own _backward closure with
# _Symbols in place of numbers, so the closure writes its own backward code;
# each gradient is then added up in one line, as backward() adds it, with the
# closures' one-use temporaries written into that line. The code is compiled
# once and from then on runs on floats alone: no Value, no graph, no closures.

class _Retrace(Exception):
    """Raised by generated code when a guard fails: the call took another branch than the trace."""


class _Symbol:
    """A number in the code being generated: each operation on it writes a line and returns a new _Symbol."""

    __slots__ = ("name", "code")

    def __init__(self, name, code):
        self.name, self.code = name, code

    def __repr__(self):
        return f"_Symbol({self.name})"

    def __neg__(a):        return a.code.line("-{}", a)
    def __pos__(a):        return a
    def __abs__(a):        return a.code.line("abs({})", a)
    def __lt__(a, b):      return a.code.line("{} < {}", a, b)
    def __le__(a, b):      return a.code.line("{} <= {}", a, b)
    def __gt__(a, b):      return a.code.line("{} > {}", a, b)
    def __ge__(a, b):      return a.code.line("{} >= {}", a, b)
    def __eq__(a, b):      return a.code.line("{} == {}", a, b)
    def __ne__(a, b):      return a.code.line("{} != {}", a, b)
    __hash__ = object.__hash__

    def __getattr__(self, name):                    # x.exp(), x.sigmoid(), ... as calls in the code
        if name not in _SYMBOL_METHODS:
            raise AttributeError(f"jit: a _backward closure called .{name}() on a number, which jit "
                                 f"cannot write as code (known: {', '.join(sorted(_SYMBOL_METHODS))})")
        return lambda: self.code.call("m_" + name, _SYMBOL_METHODS[name], (self,))

    def _branch(self, *_):
        raise TypeError(f"jit: a _backward closure reads the number {self.name} as a plain number "
                        f"(an if, float() or a math function); jit can only write arithmetic, "
                        f"comparisons and calls to the engine's helpers as code")
    __bool__ = __float__ = __int__ = __index__ = _branch


def _symbol_pair(template):
    """Make a <op> b and b <op> a for _Symbol, each writing one line from template."""
    def forward(a, b):
        return a.code.line(template, a, b)

    def reverse(b, a):
        return b.code.line(template, a, b)
    return forward, reverse


_Symbol.__add__, _Symbol.__radd__ = _symbol_pair("{} + {}")
_Symbol.__sub__, _Symbol.__rsub__ = _symbol_pair("{} - {}")
_Symbol.__mul__, _Symbol.__rmul__ = _symbol_pair("{} * {}")
_Symbol.__truediv__, _Symbol.__rtruediv__ = _symbol_pair("{} / {}")
_Symbol.__pow__, _Symbol.__rpow__ = _symbol_pair("{} ** {}")

_SYMBOL_METHODS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh,
                   "sin": math.sin, "cos": math.cos, "sigmoid": _sigmoid}


def _literal(x):
    """Write a number as Python source that reads back to exactly the same number."""
    if x.__class__ is bool:
        return repr(x)
    if x.__class__ is int:
        return repr(x) if x >= 0 else f"({x!r})"
    if x.__class__ is not float:
        raise TypeError(f"jit: cannot write {x!r} ({type(x).__name__}) into generated code; "
                        f"only floats and ints")
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "(-inf)"
    text = repr(x)                                   # the shortest text that reads back to x, -0.0 included
    return f"({text})" if text.startswith("-") else text


def _comment(text):
    """A user's string (a label, a class name) made safe for a comment: printable characters only."""
    return "".join(c for c in str(text) if c.isprintable())[:80]


class _Code:
    """The generated code being written: its lines, and the namespace they will run in."""

    def __init__(self):
        self.lines = []                # (targets, text, names used, pure, (template, operands) or None)
        self.namespace = {"__builtins__": {}, "sum": sum, "abs": abs, "inf": math.inf,
                          "nan": math.nan, "Retrace": _Retrace}
        self.count = 0

    def text(self, x):
        """The source for an operand: a symbol's name, a literal, or a tuple of them."""
        if isinstance(x, _Symbol):
            return x.name
        if isinstance(x, (tuple, list)):
            return "(" + "".join(self.text(y) + ", " for y in x) + ")"
        return _literal(x)

    def fresh(self, prefix="t"):
        self.count += 1
        return f"{prefix}{self.count}"

    def add(self, targets, text, uses, pure=True, comment="", expr=None):
        """Append one statement; pure ones are dropped when nothing reads what they compute."""
        if comment:
            text = f"{text:<40s}  # {comment}"
        self.lines.append((tuple(targets), text, tuple(uses), pure, expr))

    def line(self, template, *operands, name=None):
        """Write name = template filled with the operands; return the new symbol."""
        name = name or self.fresh()
        texts = [self.text(x) for x in operands]
        self.add([name], f"{name} = " + template.format(*texts), _names_in(operands), expr=(template, texts))
        return _Symbol(name, self)

    def call(self, name, fn, args):
        """Write a call of fn, bound to name in the namespace, on args; return the result's symbol."""
        self.bind(name, fn)
        return self.line(name + "(" + ", ".join("{}" for _ in args) + ")", *args)

    def bind(self, name, obj):
        """Put obj into the generated code's namespace as name (one name, one object)."""
        if self.namespace.setdefault(name, obj) is not obj:
            raise RuntimeError(f"jit: two different objects for the name {name!r} in generated code")


def _names_in(operands):
    """The symbols' names among operands (nested in tuples too)."""
    names = []
    for x in operands:
        if isinstance(x, _Symbol):
            names.append(x.name)
        elif isinstance(x, (tuple, list)):
            names += _names_in(x)
    return names


def _has_symbol(args):
    return any(isinstance(x, _Symbol) or (isinstance(x, (tuple, list)) and _has_symbol(x)) for x in args)


# The forward pass: for each op, the name the generated code calls it by and the
# float function it computes (the same as the op's own), or a template written
# inline. Adding an op is one line here; a missing one is a clear error.
_INLINE = {
    "+":     lambda a, b: f"{a} + {b}",
    "-":     lambda a, b: f"{a} - {b}",
    "*":     lambda a, b: f"{a} * {b}",
    "neg":   lambda a: f"-{a}",
    "relu":  lambda a: f"0.0 if {a} <= 0.0 else {a}",                                # as Value.relu
    "input": lambda a: a,
    "sum":   lambda *xs: _sum_source(xs),                                           # as vsum
    "dot":   lambda *wxb: _sum_source([f"{w} * {x}" for w, x in zip(wxb[:len(wxb) // 2],
                                                                wxb[len(wxb) // 2:-1])]) + f" + {wxb[-1]}",
}


def _sum_source(terms):
    """Source for sum(terms, 0.0), as vsum and dot add: a chain of + where that is the same arithmetic.

    From Python 3.12 on, sum() adds floats with compensation, so the code calls it too.
    """
    if sys.version_info < (3, 12) and len(terms) <= 64:
        return " + ".join(["0.0"] + list(terms))
    return "sum((" + "".join(t + ", " for t in terms) + "), 0.0)"


def _divide(x, y):
    """x / y on floats, with the error / raises."""
    if y == 0.0:
        raise ZeroDivisionError(f"/: division by zero: {x!r} / {y!r}")
    return x / y


_FORWARD = {   # op: (its name in the code, the float function, names of _backward defaults it also reads)
    "/":          ("div",        _divide),
    "**":         ("power",      _power),
    "abs":        ("abs",        abs),
    "leaky_relu": ("leaky_relu", lambda x, s: x if x > 0.0 else s * x, ("s",)),
    "exp":        ("exp",        lambda x: _math(math.exp, x, "exp")),
    "log":        ("log",        lambda x: _math(math.log, x, "log", "x > 0")),
    "sqrt":       ("sqrt",       lambda x: _math(math.sqrt, x, "sqrt", "x >= 0")),
    "tanh":       ("tanh",       math.tanh),
    "sigmoid":    ("sigmoid",    _sigmoid),
    "softplus":   ("softplus",   lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x)))),
    "sin":        ("sin",        lambda x: _math(math.sin, x, "sin", "finite x")),
    "cos":        ("cos",        lambda x: _math(math.cos, x, "cos", "finite x")),
    "logsumexp":  ("logsumexp",  lambda *xs: _lse(xs)),
    "tan":        ("tan",        lambda x: _math(math.tan, x, "tan", "finite x")),
    "sinh":       ("sinh",       lambda x: _math(math.sinh, x, "sinh")),
    "cosh":       ("cosh",       lambda x: _math(math.cosh, x, "cosh")),
    "asin":       ("asin",       lambda x: _math(math.asin, x, "asin", "-1 <= x <= 1")),
    "acos":       ("acos",       lambda x: _math(math.acos, x, "acos", "-1 <= x <= 1")),
    "atan":       ("atan",       lambda x: _math(math.atan, x, "atan")),
    "asinh":      ("asinh",      lambda x: _math(math.asinh, x, "asinh")),
    "acosh":      ("acosh",      lambda x: _math(math.acosh, x, "acosh", "x >= 1")),
    "atanh":      ("atanh",      lambda x: _math(math.atanh, x, "atanh", "-1 < x < 1")),
    "log2":       ("log2",       lambda x: _math(math.log2, x, "log2", "x > 0")),
    "log10":      ("log10",      lambda x: _math(math.log10, x, "log10", "x > 0")),
    "log1p":      ("log1p",      lambda x: _math(math.log1p, x, "log1p", "x > -1")),
    "expm1":      ("expm1",      lambda x: _math(math.expm1, x, "expm1")),
}


def _custom_forward(cls, *xs):
    """A ScalarFunction's forward at run time: its number and the Context its backward needs."""
    ctx = Context()
    out = cls.forward(ctx, *xs)
    if isinstance(out, Value) or not isinstance(out, numbers.Real):
        raise TypeError(f"{cls.__name__}.forward must return a real number, got {out!r}")
    return float(out), ctx


def _custom_backward(cls, ctx, g, n):
    """A ScalarFunction's backward at run time: n gradients, checked as apply checks them."""
    return _checked_gradients(cls, cls.backward(ctx, g), n)


_closure_globals = {}


def _emitting_globals():
    """The module's globals with every function replaced by one that writes a call to it.

    A _backward closure run with these globals writes _over(g, d) into the code
    instead of deciding there and then which branch _over takes: at run time the
    real helper decides, on the real numbers. The module itself is not touched.
    """
    if not _closure_globals:
        ns = dict(globals())
        for name, fn in globals().items():
            if isinstance(fn, type(_emitting_globals)) and fn.__module__ == __name__:
                ns[name] = _emitter(name, fn)
        _closure_globals.update(ns)
    return _closure_globals


def _emitter(name, fn):
    """Return a stand-in for fn: on symbols it writes a call of fn; on plain numbers it calls fn."""
    def emit(*args):
        for x in args:
            code = x.code if isinstance(x, _Symbol) else None
            if code is None and isinstance(x, (tuple, list)):
                code = next((y.code for y in x if isinstance(y, _Symbol)), None)
            if code is not None:
                return code.call(name, fn, args)
        return fn(*args)
    return emit


def _symbolic_backward(code, v, g, parents):
    """Run v's _backward closure on symbols: the closure writes its own backward code."""
    fn = v._backward
    copy = type(fn)(fn.__code__, _emitting_globals(), fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    return copy(g, *parents)


class _Tracer:
    """What jit records while f runs on Values: the guards, and which Values belong to the trace."""

    def __init__(self, inputs):
        self.inputs = set(inputs)
        self.made = {}                               # each node the trace made: its place in that order
        self.guards = []                             # (a, op, b, outcome, nodes made before the comparison)

    def note(self, v):
        """Note a node the trace made (_node calls this while jit traces), in the order they are made."""
        self.made[v] = len(self.made)

    def traced(self, v):
        """Whether v's number depends on the trace's inputs."""
        return v in self.inputs or (v.requires_grad and v in self.made)

    def guard(self, a, op, b, outcome):
        if a.requires_grad or (isinstance(b, Value) and b.requires_grad):
            if not isinstance(b, Value) and b.__class__ not in (float, int, bool):
                raise TypeError(f"jit: a traced Value is compared with {b!r} ({type(b).__name__}); "
                                f"jit can write comparisons with floats and ints only")
            self.guards.append((a, op, b, outcome, len(self.made)))

    def read(self, v, what):
        if self.traced(v):
            raise TypeError(f"jit: {what}(v) reads the number of the traced Value {v!r} inside the "
                            f"jitted function; that number would be baked into the generated code. "
                            f"Compare Values instead (v > 0 is recorded as a guard), or do not jit f")


def _unknown(v, where):
    return ValueError(f"jit: {where} uses {v!r}, a Value that is not one of its arguments (made outside "
                      f"the function, or kept from an earlier trace); a jitted function sees only its "
                      f"arguments: pass it as one, or use a plain number (or Value(x, requires_grad=False)) "
                      f"for a constant")


def _generate(inputs, outs, guards, wrt, made, where):
    """Write the code for a trace: return the _Code and the names (or literals) it returns."""
    code = _Code()
    names = {x: f"x{i}" for i, x in enumerate(inputs)}
    custom = {}                                      # node: (class's name in the code, its Context's name)
    operands = [v for a, _, b, _, _ in guards for v in (a, b) if isinstance(v, Value)]
    made_at = lambda v: made.get(v, -1)             # leaves first, then the order the trace made them
    nodes = sorted(_all_nodes(outs + operands), key=made_at)
    pending = sorted(guards, key=lambda gd: gd[4], reverse=True)
    for i, v in enumerate(nodes):
        while pending and pending[-1][4] <= made_at(v):   # a guard goes before the nodes made after it
            _write_guard(code, names, *pending.pop()[:4])
        if v in names:
            continue
        if not v._prev:                              # a leaf that is no input: a constant, baked in
            if v.requires_grad:
                raise _unknown(v, where)
            names[v] = _literal(v.data)
            continue
        if v not in made:                            # made before the trace began
            raise _unknown(v, where)
        names[v] = name = f"v{i}"
        parents = [names[p] for p in v._prev]
        note = _comment(v._op) + (f"  {_comment(v.label)!r}" if v.label else "")
        cls = _custom_class(v._backward)
        if cls is not None:
            fn_name = f"fn{i}"
            code.bind(fn_name, cls)
            code.bind("custom_forward", _custom_forward)
            custom[v] = (fn_name, f"ctx{i}")
            code.add([name, f"ctx{i}"], f"{name}, ctx{i} = custom_forward({', '.join([fn_name] + parents)})",
                     parents, pure=False, comment=note)
        elif v._op in _INLINE:
            code.add([name], f"{name} = {_INLINE[v._op](*parents)}", parents, pure=False, comment=note)
        elif v._op in _FORWARD:
            fn_name, fn, *extra = _FORWARD[v._op]
            code.bind(fn_name, fn)
            defaults = dict(zip(v._backward.__code__.co_varnames[1:], v._backward.__defaults__ or ()))
            args = parents + [_literal(defaults[d]) for d in (extra[0] if extra else ())]
            code.add([name], f"{name} = {fn_name}({', '.join(args)})", parents, pure=False, comment=note)
        else:
            raise NotImplementedError(f"jit: no generated code for the op {v._op!r}; add a line for it "
                                      f"to tinygrad_scalar._FORWARD")
    for gd in reversed(pending):
        _write_guard(code, names, *gd[:4])
    returns = [names[o] for o in outs]
    if wrt is not None:
        returns += _write_backward(code, names, custom, outs[0], wrt)
    return code, returns


def _write_guard(code, names, a, op, b, outcome):
    """Write: if the comparison comes out otherwise than in the trace, retrace."""
    left = names[a]
    right = names[b] if isinstance(b, Value) else _literal(b)
    test = f"{left} {op} {right}"
    uses = [n for n in (left, right) if n.isidentifier() and n not in ("inf", "nan")]
    code.add([], f"if {'not ' if outcome else ''}{test}: raise Retrace", uses, pure=False,
             comment=f"guard: in the trace, {test} was {outcome}")


def _write_backward(code, names, custom, root, wrt):
    """Write the backward pass from root, closure by closure; return the gradients' names for wrt."""
    def symbol(v):
        return _Symbol(names[v], code) if names[v].isidentifier() and names[v] not in ("inf", "nan") \
            else v.data
    sums = {}                                        # node: [its gradient so far, terms not yet added]

    def add(v, term):                                # parent.grad += term, as backward() does it
        acc, terms = sums.setdefault(v, [0.0, []])
        terms.append(term)
        if len(terms) == _TERMS:                     # add as they come: no term waits long to be used
            flush(v, code.fresh("a"))

    def flush(v, name):
        acc, terms = sums.get(v, (0.0, []))
        if not _has_symbol([acc] + terms):           # constants only: add them now, in the same order
            for t in terms:
                acc += t
        elif terms:
            acc = code.line(" + ".join("{}" for _ in [acc] + terms), acc, *terms, name=name)
        sums[v] = [acc, []]
        return acc

    if root.requires_grad:
        for v in _backward_order([root]):
            g = 1.0 if v is root else flush(v, "d" + names[v])
            parents = v._prev
            if v in custom:
                fn_name, ctx = custom[v]
                code.bind("custom_backward", _custom_backward)
                targets = [code.fresh() for _ in parents]
                code.add(targets, f"{''.join(t + ', ' for t in targets)}= custom_backward("
                         f"{fn_name}, {ctx}, {code.text(g)}, {len(parents)})", [ctx] + _names_in([g]))
                grads = [_Symbol(t, code) for t in targets]
            else:
                grads = _symbolic_backward(code, v, g, [symbol(p) for p in parents])
            for p, d in zip(parents, grads):
                if p.requires_grad:
                    add(p, d)
    grads = []
    for w in wrt:
        d = 1.0 if w is root else flush(w, "d" + names[w])
        if isinstance(d, _Symbol) and d.name != "d" + names[w]:
            d = code.line("{}", d, name="d" + names[w])    # each input's gradient under its own name
            sums[w] = [d, []]
        grads.append(code.text(d))
    return grads


def _inlined(lines, returns, most=6):
    """Write each temporary t that one later expression reads into that expression (up to most ops).

    t1 = g * y; a2 = a1 + t1 becomes a2 = a1 + g * y: the same operations on
    the same numbers, with fewer names to store and load; the gradients that
    backward() adds up (a, d) keep a line each.
    """
    reads, reader = {}, {}
    for k, (_, _, uses, _) in enumerate(lines):
        for u in uses:
            reads[u] = reads.get(u, 0) + 1
            reader[u] = k
    for r in returns:
        reads[r] = 2
    inline = {t for k, (targets, _, _, expr) in enumerate(lines) if expr and len(targets) == 1
              for t in targets if t[0] == "t" and reads.get(t) == 1 and lines[reader[t]][3] and t in lines[reader[t]][3][1]}
    pending, out = {}, []                            # name: (its expression, its size, the names it reads)
    call = re.compile(r"[A-Za-z_]\w*\(\{\}(, \{\})*\)\Z")   # a template that is one call: f({}, {})
    for targets, text, uses, expr in lines:
        if expr is None:
            out.append((targets, text, uses))
            continue
        template, args = expr
        size, reads_now, texts = 1, [u for u in uses if u not in pending], []
        for a in args:
            if a in pending:
                e, n, u, whole = pending.pop(a)
                texts.append(e if whole else f"({e})")     # a call, _exp(x), needs no ()
                size, reads_now = size + n, reads_now + u
            else:
                texts.append(a)
        source = template.format(*texts)
        if targets[0] in inline and size <= most:
            pending[targets[0]] = (source, size, reads_now, bool(call.match(template)))
        else:
            out.append((targets, f"{targets[0]} = {source}", reads_now))
    return out


_CHUNK = 5000                                        # statements per generated function at most
_TERMS = 8                                           # gradient terms added up per statement at most


def _assemble(code, n_inputs, returns, title):
    """Drop unused statements, then write the source: one function, or a chain of chunks for a big trace."""
    live = {r for r in returns}
    kept = []
    for targets, text, uses, pure, expr in reversed(code.lines):
        if not pure or any(t in live for t in targets):
            kept.append((targets, text, uses, expr))
            live.update(uses)
    kept.reverse()
    kept = _inlined(kept, returns)
    params = [f"x{i}" for i in range(n_inputs)]
    head = [f"# generated by tinygrad_scalar.jit from {_comment(title)}"]
    ret = "    return " + (", ".join(returns) + "," if len(returns) == 1 else ", ".join(returns))
    if len(kept) <= _CHUNK:
        body = [f"    {text}" for _, text, _ in kept]
        return "\n".join(head + [f"def run({', '.join(params)}):"] + body + [ret]) + "\n"
    # A big trace: a chain of functions part0, part1, ... Each takes the inputs
    # as its parameters and the list M, which carries every other name that
    # one part computes and a later one reads.
    chunks = [kept[k:k + _CHUNK] for k in range(0, len(kept), _CHUNK)]
    made = {}                                        # name: the part that computes it
    for c, chunk in enumerate(chunks):
        for targets, _, _ in chunk:
            for t in targets:
                made[t] = c
    needed = {}                                      # name: the parts reading it from an earlier one
    for c, chunk in enumerate(chunks):
        for _, _, uses in chunk:
            for u in uses:
                if made.get(u, c) != c:
                    needed.setdefault(u, set()).add(c)
    for r in returns:
        if made.get(r, len(chunks) - 1) != len(chunks) - 1:
            needed.setdefault(r, set()).add(len(chunks) - 1)
    slot = {name: k for k, name in enumerate(needed)}
    src, signature = head, ", ".join(["M"] + params)
    for c, chunk in enumerate(chunks):
        src.append(f"def part{c}({signature}):")
        src += [f"    {u} = M[{slot[u]}]" for u in sorted(n for n, cs in needed.items() if c in cs)]
        src += [f"    {text}" for _, text, _ in chunk]
        src += [f"    M[{slot[t]}] = {t}" for targets, _, _ in chunk for t in targets if t in needed]
        if c == len(chunks) - 1:
            src.append(ret)
    src.append(f"def run({', '.join(params)}):")
    src.append(f"    M = [None] * {len(slot)}")
    src += [f"    part{c}({signature})" for c in range(len(chunks) - 1)]
    src.append(f"    return part{len(chunks) - 1}({signature})")
    return "\n".join(src) + "\n"


def _graph_references(nodes):
    """Count, for each node, the references to it from the graph itself (children, closures)."""
    inside = dict.fromkeys(nodes, 0)
    for v in nodes:
        held = list(v._prev)
        for c in v._backward.__closure__ or ():     # a ScalarFunction's closure keeps its inputs
            x = c.cell_contents
            held += list(x) if isinstance(x, (tuple, list)) else [x]
        for p in held:
            if p in inside:
                inside[p] += 1
    return inside


def _kept(nodes, own):
    """Return a Value among nodes (made by the trace) that something besides the graph still refers to.

    Each node's reference count is compared with that of a fresh Value held
    the same way (by this list, the dict of counts and the loop variable).
    """
    inside = _graph_references(nodes)
    nodes.insert(0, Value(0.0))                      # the probe, held by the list alone
    inside[nodes[0]] = 0
    base = None
    for v in nodes:
        if base is None:
            base = sys.getrefcount(v)                # the probe comes first: the baseline
        elif v not in own and sys.getrefcount(v) - inside[v] > base:
            return v
    return None


class _Trace:
    """One compiled trace: the generated source and the function it defines."""

    def __init__(self, source, namespace):
        self.source = source
        exec(compile(source, "<jit>", "exec"), namespace)
        self.run = namespace["run"]


class _Jitted:
    """The function jit returns: generated code for f, compiled on the first call."""

    _MAX_TRACES = 8                                  # traces kept, one per branch pattern seen

    def __init__(self, f, argnums, mode, params=None):
        self.f, self.argnums, self.mode, self.params = f, argnums, mode, params
        self.traces = []                             # newest first
        self.lock = threading.Lock()
        self.__name__ = f"jit_{getattr(f, '__name__', 'f')}"
        self.__doc__ = getattr(f, "__doc__", None)

    @property
    def source(self):
        """The generated Python source of the newest trace."""
        if not self.traces:
            raise RuntimeError(f"jit: {self.__name__} has not been called yet; the code is generated "
                               f"on the first call")
        return self.traces[0].source

    def __repr__(self):
        return f"<jit of {getattr(self.f, '__name__', self.f)!r}, {len(self.traces)} trace(s)>"

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"jit: pass the arguments of {self.__name__} by position, got keywords "
                            f"{sorted(kwargs)!r}")
        if self.params is None and any(isinstance(a, Value) for a in args):
            return self._unjitted(*args)             # called on Values (inside grad, say): run f itself
        xs = self._floats(args)
        for trace in list(self.traces):
            if trace.arity == len(xs):
                try:
                    return self._shaped(trace, trace.run(*xs))
                except _Retrace:
                    continue
        with self.lock, _gc_paused():                # a big trace makes many objects, and no cycles
            trace = self._trace(xs)
            self.traces = ([trace] + self.traces)[:self._MAX_TRACES]
        try:
            return self._shaped(trace, trace.run(*xs))
        except _Retrace:
            raise RuntimeError(f"jit: {self.__name__} took a different branch when run again on the same "
                               f"numbers; f must be a function of its arguments alone") from None

    def _unjitted(self, *args):
        if self.mode == "f":
            return self.f(*args)
        transform = value_and_grad if self.mode == "value_and_grad" else grad
        return transform(self.f, self.argnums)(*args)

    def _floats(self, args):
        if self.params is not None:
            if args:
                raise TypeError(f"jit_loss: the step takes no arguments (it reads the parameters), "
                                f"got {args!r}")
            return [p.data for p in self.params]
        xs = []
        for a in args:
            if isinstance(a, bool) or not isinstance(a, numbers.Real):
                raise TypeError(f"jit: {self.__name__} takes real numbers, got {a!r} ({type(a).__name__})")
            xs.append(_value(a, "jit").data)
        return xs

    def _trace(self, xs):
        """Run f on Values, write the code for what it did, compile it."""
        where = self.__name__
        inputs = list(self.params) if self.params is not None else [Value(x) for x in xs]
        tracer = _Tracer(inputs)
        saved, _grad_mode.tracer = _grad_mode.tracer, tracer
        try:
            with enable_grad():
                _grad_mode.transforms += 1
                try:
                    result = self.f(*([] if self.params is not None else inputs))
                finally:
                    _grad_mode.transforms -= 1
        finally:
            _grad_mode.tracer = saved
        outs, shape = self._outputs(result)
        del result
        wrt = None
        if self.mode in ("value_and_grad", "grad"):
            nums = _argnums(self.argnums, len(inputs), "grad")
            wrt = [inputs[i] for i in nums]
        elif self.mode == "loss":
            wrt = inputs
        code, returns = _generate(inputs, outs, tracer.guards, wrt, tracer.made, where)
        source = _assemble(code, len(inputs), returns, where)
        own = set(inputs) if self.params is not None else set()
        nodes = _all_nodes(outs + inputs)
        in_graph = set(nodes)
        nodes += [v for v in tracer.made if v not in in_graph]   # made by f but feeding no output
        del outs, wrt, tracer, inputs, in_graph
        leaked = _kept(nodes, own)
        if leaked is not None:
            raise RuntimeError(f"jit: {where} kept the traced Value {leaked!r} after returning (in a "
                               f"global, a list, an attribute...); after the trace it holds stale "
                               f"numbers. Return what you need from the function instead")
        del nodes, leaked, own
        trace = _Trace(source, code.namespace)
        trace.arity, trace.shape = len(xs), shape
        return trace

    def _outputs(self, result):
        """Check what f returned; return its Values and how to shape the floats the code returns."""
        where = self.__name__
        if self.mode == "loss" and isinstance(result, (tuple, list)) and len(result) == 2 \
                and isinstance(result[1], (tuple, list)):
            loss, aux = result
            if isinstance(loss, Value) and aux and all(isinstance(a, Value) for a in aux):
                return [loss] + list(aux), ("aux", len(aux))
        if isinstance(result, Value):
            return [result], None
        if self.mode == "f" and isinstance(result, (tuple, list)) and result \
                and all(isinstance(r, Value) for r in result):
            return list(result), type(result)
        raise TypeError(f"jit: {where} must return a Value" +
                        (" or a non-empty list or tuple of Values" if self.mode == "f" else
                         " (a scalar), or (loss, [Values...])" if self.mode == "loss" else " (a scalar)") +
                        f", got {result!r}")

    def _shaped(self, trace, out):
        """Give the flat tuple the code returns the shape f (or grad, or value_and_grad) gives."""
        shape, mode = trace.shape, self.mode
        if mode == "f":
            return out[0] if shape is None else shape(out)
        if mode == "loss":
            k = 1 + (shape[1] if shape else 0)
            for p, g in zip(self.params, out[k:]):
                p.grad = g
            return out[0] if shape is None else (out[0], list(out[1:k]))
        grads = out[1] if isinstance(self.argnums, int) else tuple(out[1:])
        return (out[0], grads) if mode == "value_and_grad" else grads


def jit(f):
    """Return a function computing f on floats by code generated from one trace, as jax.jit does.

    The first call runs f on Values and writes the graph it made as straight-
    line Python (.source shows it), compiled once; later calls run that code.
    jit(value_and_grad(f, argnums)) and jit(grad(f)) write the backward pass
    too, from the ops' own _backward closures. A comparison of traced Values
    in f (if x > 0: ...) becomes a guard: a call that goes the other way
    traces f again. f must be a function of its arguments alone: it may not
    read a traced Value's number (float(x), x.detach(), no_grad) or keep a
    traced Value after it returns; those raise. Reading x.data directly
    cannot be seen, and bakes the number in: do not. Work whose result reaches
    neither an output nor a guard is dropped, as in JAX, errors and all.
    """
    if isinstance(f, _Jitted):
        return f
    if not callable(f):
        raise TypeError(f"jit: expected a function, got {f!r}")
    inner, argnums, mode = getattr(f, "_transform", (f, None, "f"))
    return _Jitted(inner, argnums, mode)


def jit_loss(loss_fn, params):
    """Return step(): loss_fn() by jitted code, with each parameter's .grad set to d(loss)/d(it).

    loss_fn takes no arguments and computes a loss from the parameters (a
    model over a fixed batch); params are the Values it learns (model.
    parameters()). Each call reads their current .data, so an optimizer can
    update them in between: loss = step(); opt.step(). Gradients are set, not
    added (as opt.zero_grad() then loss.backward()). loss_fn may also return
    (loss, [Values...]), say the scores, and step() then returns (loss, [floats]).
    """
    try:
        params = list(params) if not isinstance(params, Value) else [params]
    except TypeError:
        raise TypeError(f"jit_loss: expected a list of Values to learn, got {params!r}") from None
    for i, p in enumerate(params):
        if not isinstance(p, Value) or p._prev or not p.requires_grad:
            raise TypeError(f"jit_loss: parameter {i} is {p!r}; expected a leaf Value that requires grad")
    if len(set(params)) != len(params):
        raise ValueError("jit_loss: a parameter appears twice in params")
    if not callable(loss_fn):
        raise TypeError(f"jit_loss: expected a function of no arguments, got {loss_fn!r}")
    return _Jitted(loss_fn, None, "loss", params)


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
        for p, d in zip(v._prev, v._backward(grads.get(v, 0.0))):
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

class TrainResult(collections.namedtuple("TrainResult", "model accuracy")):
    """What train_moons returns: it unpacks as (model, accuracy), as before 0.2.0;
    .losses and .accuracies hold the number at every step, for plotting."""


def train_moons(steps=200, n=100, seed=1, progress=True, use_jit=True):
    """Train MLP(2, [16, 16, 1]) on two-moons, as micrograd's demo does; stop at 100% accuracy.

    Return a TrainResult: model, accuracy, and the per-step losses and accuracies.
    progress=False trains silently. use_jit=True traces the step once with
    jit_loss and then runs generated code; use_jit=False runs backward() on a
    fresh graph every step. Both train the same model, number for number.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"train_moons: steps must be an int >= 0, got {steps!r}")
    X, y = make_moons(n, noise=0.1, seed=seed)
    labels = [2 * t - 1 for t in y]                  # hinge loss wants -1 and +1
    model = MLP(2, [16, 16, 1], activation="relu", seed=seed)
    params = model.parameters()
    opt = SGD(params, lr=1.0)

    def loss_and_scores():                           # the whole batch: the loss, and the scores for accuracy
        scores = [model(x) for x in X]
        return hinge_loss(scores, labels) + 1e-4 * vsum(p * p for p in params), scores

    def step_by_backward():                          # what step() does, by the graph
        loss, scores = loss_and_scores()
        opt.zero_grad()
        loss.backward()
        return loss.data, [s.data for s in scores]

    step = jit_loss(loss_and_scores, params) if use_jit else step_by_backward   # sets every p.grad
    report = _progress_bar(steps) if progress else None
    losses, accuracies = [], []
    for k in range(steps + 1):
        loss, scores = step()
        accuracy = sum((s > 0) == (t > 0) for s, t in zip(scores, labels)) / n
        losses.append(loss)
        accuracies.append(accuracy)
        last = accuracy == 1.0 or k == steps         # the model returned is the one just measured
        if report:
            report(k, loss, accuracy, last)
        if last:
            break
        opt.lr = 1.0 - 0.9 * k / steps               # learning-rate decay
        opt.step()
    result = TrainResult(model, accuracy)
    result.losses, result.accuracies = losses, accuracies
    return result


def _progress_bar(total):
    """Return report(k, loss, accuracy, last), which shows training progress where it runs:
    a tqdm.auto bar when tqdm is installed; on a terminal, one line redrawn in place;
    piped or in a notebook, a plain line every tenth of the steps and at the end."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, desc="training", unit="step")

        def report(k, loss, acc, last):
            bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{acc:.0%}", refresh=False)
            bar.update(k - bar.n)
            if last:
                bar.close()
        return report
    on_terminal = sys.stdout is not None and sys.stdout.isatty()
    every = max(1, total // 10)

    def report(k, loss, acc, last):
        line = f"step {k:{len(str(total))}d}/{total}  loss {loss:.4f}  accuracy {acc:6.1%}"
        if on_terminal:
            print("\r" + line, end="\n" if last else "", flush=True)
        elif last or k % every == 0:
            print(line, flush=True)
    return report


def main(argv=()):
    """Differentiate the course notes' example, check it numerically, then train a small MLP."""
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_scalar",
        description="Differentiate the course notes' example f(x1, x2) = log(x1*x2*(x1 + x2)) / (x1 - x2)**2 "
                    "at (2, 10), check its gradient against a central difference, then train "
                    "MLP(2, [16, 16, 1]) on two-moons with SGD until 100% training accuracy or --steps "
                    "(the training step is traced once by jit_loss, then runs as generated Python).")
    parser.add_argument("--steps", type=int, default=200, metavar="N",
                        help="train for at most N steps (default: %(default)s)")
    parser.add_argument("--version", action="version", version=f"tinygrad_scalar {__version__}")
    args = parser.parse_args(list(argv))
    if args.steps < 0:
        parser.error(f"--steps must be 0 or more, got {args.steps}")

    def f(x1, x2):
        return (x1 * x2 * (x1 + x2)).log() / (x1 - x2) ** 2

    x1, x2 = Value(2.0, label="x1"), Value(10.0, label="x2")
    out = f(x1, x2)
    out.backward()
    print("f(x1, x2) = log(x1*x2*(x1 + x2)) / (x1 - x2)**2  at x1 = 2, x2 = 10")   # ASCII: any terminal prints it
    print(f"  value              {out.data:.10f}")
    for i, x in enumerate((x1, x2)):
        numeric = central_difference(f, 2.0, 10.0, arg=i)
        print(f"  df/d{x.label}  autodiff {x.grad: .10f}   central difference {numeric: .10f}")
    print("\nTraining MLP(2, [16, 16, 1]) on two-moons (hinge loss, SGD; the step jitted once):")
    model, accuracy = train_moons(args.steps)
    print(f"training accuracy: {accuracy:.0%}")
    return accuracy


def _run_as_program(namespace):
    """Whether this file runs as a program (python tinygrad_scalar.py, python -m tinygrad_scalar).

    Pasted into a notebook cell or a REPL, __name__ is "__main__" too, but the
    namespace has no __file__ and sys.argv[0] is the kernel's, not this file.
    """
    file = namespace.get("__file__")
    if not (file and sys.argv and sys.argv[0]):
        return False
    return os.path.normcase(os.path.realpath(sys.argv[0])) == os.path.normcase(os.path.realpath(file))


if __name__ == "__main__" and _run_as_program(globals()):
    main(sys.argv[1:])
