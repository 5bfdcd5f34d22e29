"""The math namespace interface (bpdiff.engine.namespace): every namespace provides every
member, every member is used, and nothing else is offered as one."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from bpdiff.analyses import crosscheck
from bpdiff.engine import dual, exact, scalar, tensor
from bpdiff.engine.namespace import ArrayNamespace, MathNamespace, members, missing_members

SRC = Path(__file__).resolve().parent.parent / "src" / "bpdiff"


class _Anything:
    """A stand-in for torch or jax: every attribute is a function (or another stand-in),
    so that the namespaces can be built without the frameworks."""

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()


NAMESPACES = {
    "scalar": (scalar, MathNamespace),
    "exact": (exact.NAMESPACE, MathNamespace),
    "dual": (dual.namespace(), MathNamespace),
    "dual with a kink policy": (dual.namespace({"relu": (1.0,)}), MathNamespace),
    "tensor": (tensor, ArrayNamespace),
    "torch": (crosscheck.torch_namespace(_Anything()), MathNamespace),
    "jax": (crosscheck.jax_namespace(_Anything()), MathNamespace),
}


@pytest.mark.parametrize("name", NAMESPACES)
def test_every_namespace_provides_the_interface(name):
    namespace, interface = NAMESPACES[name]
    assert missing_members(namespace, interface) == []


def test_tensor_mode_is_declared():
    assert tensor.ARRAYS is True
    for name, (namespace, interface) in NAMESPACES.items():
        if interface is MathNamespace:
            assert namespace.ARRAYS is False, name


def test_a_missing_or_wrong_member_is_found():
    complete = {name: getattr(scalar, name) for name in members()}
    assert missing_members(SimpleNamespace(**complete)) == []
    without_exp = {k: v for k, v in complete.items() if k != "exp"}
    assert missing_members(SimpleNamespace(**without_exp)) == ["exp"]
    assert missing_members(SimpleNamespace(**{**complete, "sqrt": 2.0})) == ["sqrt"]
    assert missing_members(SimpleNamespace(**{**complete, "ARRAYS": "no"})) == ["ARRAYS"]
    assert "matmul" in missing_members(scalar, ArrayNamespace)


def test_every_member_has_a_meaning():
    for interface in (MathNamespace, ArrayNamespace):
        for name, member in vars(interface).items():
            if callable(member) and not name.startswith("_"):
                assert member.__doc__, name


def _used_as_m_dot():
    used = set()
    for path in SRC.rglob("*.py"):
        used.update(re.findall(r"\bm\.([A-Za-z_]\w*)", path.read_text(encoding="utf-8")))
    return used


def test_every_member_is_used_and_every_use_is_a_member():
    used = _used_as_m_dot()
    declared = set(members(ArrayNamespace))
    assert used - declared == set(), "declare these in bpdiff.engine.namespace"
    assert declared - used == set(), "nothing calls these: remove them"


def test_the_namespaces_offer_nothing_beyond_the_interface():
    """A public name of the namespace modules is a member, or a helper of their own
    that the rest of bpdiff imports by name (not through `m`)."""
    own_helpers = {
        scalar: set(),
        tensor: {"shape_text", "integer", "integers"},
    }
    declared = set(members(ArrayNamespace))
    typing_names = {"annotations", "TYPE_CHECKING"}  # `from __future__ import annotations`
    for module, helpers in own_helpers.items():
        public = {name for name, value in vars(module).items()
                  if not name.startswith("_") and type(value).__name__ != "module"}
        assert public - declared - typing_names == helpers, module.__name__
