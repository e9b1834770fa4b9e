"""The op registry: image ops, text ops (nlpaug adapters) and pre-processing ops."""

from genaug_desktop.core.ops.base import Op, build_op, get_op, registry

__all__ = ["Op", "build_op", "get_op", "registry"]
