"""Declared hyperparameter constraints, checked in one place (scikit-learn's
``_parameter_constraints`` idea), with messages a user understands."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

from polytopic.errors import ParameterError


@dataclass(frozen=True)
class Interval:
    """A number of ``kind`` (int or float) in [low, high] (open ends with ``open_low``/``open_high``)."""

    kind: type
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def check(self, name: str, value) -> None:
        base = Integral if self.kind is int else Real
        if isinstance(value, bool) or not isinstance(value, base):
            raise ParameterError(f"{name} must be {'an integer' if self.kind is int else 'a number'}, got {value!r}")
        too_low = self.low is not None and (value <= self.low if self.open_low else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.open_high else value > self.high)
        if too_low or too_high:
            lo = "(" if self.open_low else "["
            hi = ")" if self.open_high else "]"
            raise ParameterError(f"{name} must be in {lo}{self.low}, {self.high}{hi}, got {value!r}")


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of values."""

    values: tuple

    def check(self, name: str, value) -> None:
        if value not in self.values:
            raise ParameterError(f"{name} must be one of {list(self.values)}, got {value!r}")


@dataclass(frozen=True)
class Optional:
    """None, or a value satisfying ``inner``."""

    inner: object

    def check(self, name: str, value) -> None:
        if value is not None:
            self.inner.check(name, value)


@dataclass(frozen=True)
class Sizes:
    """A non-empty sequence of positive integers (layer widths)."""

    def check(self, name: str, value) -> None:
        if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in value
        ):
            raise ParameterError(f"{name} must be a non-empty list of positive integers, got {value!r}")


@dataclass(frozen=True)
class Anything:
    """No constraint (validated where it is used, e.g. an encoder spec)."""

    def check(self, name: str, value) -> None:
        return None


def validate(params: dict, constraints: dict) -> None:
    """Check every parameter against its declared constraint."""
    for name, constraint in constraints.items():
        constraint.check(name, params[name])
