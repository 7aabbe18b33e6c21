"""Benchmark: code signing and verification against bare Ed25519, on one core.

Usage: ``.venv/bin/python bench/codes.py [--seconds S]`` (S per measurement, default 2).

The measurements run interleaved in short slices, in alternating order, so that machine
noise (another process, frequency scaling) hits the bare and the coded figure alike; each
ratio is the median of the per-round ratios. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from gimark.keys.errors import UnknownKeyError
from gimark.keys.ids import key_id_for
from gimark.labels.issuing.codes import decode_and_verify, encode_url, sign_code, sign_codes

BASE = "HTTPS://GI.EXAMPLE.CN/V"
SLICE = 0.1  # seconds of one measurement per round


class Signer:
    """A CodeSigner over an in-memory key, as the keys package provides after unlocking."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.key_id = key_id_for(private_key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)


class DictResolver:
    """A KeyResolver over a dict, as a verifier holding the JWKS in memory has."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._keys = {key_id_for(public_key): public_key}

    def public_key(self, key_id: bytes) -> Ed25519PublicKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownKeyError(kid=key_id.hex()) from None


@dataclass
class Measurement:
    name: str
    run: Callable[[int], None]  # performs n operations
    batch: int = 1  # operations per slice, calibrated
    ops: int = 0
    seconds: float = 0.0
    rounds: list[float] = field(default_factory=list)  # ops/s of each round

    @property
    def per_s(self) -> float:
        return self.ops / self.seconds

    def calibrate(self) -> None:
        self.run(50)  # warm-up
        start = time.perf_counter()
        self.run(200)
        self.batch = max(1, int(200 * SLICE / (time.perf_counter() - start)))

    def slice(self) -> None:
        start = time.perf_counter()
        self.run(self.batch)
        elapsed = time.perf_counter() - start
        self.ops += self.batch
        self.seconds += elapsed
        self.rounds.append(self.batch / elapsed)


def build() -> dict[str, Measurement]:
    private_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public_key = private_key.public_key()
    signer = Signer(private_key)
    resolver = DictResolver(public_key)
    bases = [BASE]
    message = b"gimark-code-v1" + bytes(11)  # the size of a real signed message
    signature = private_key.sign(message)
    url = sign_code(signer, 123456789).url(BASE)
    serials = itertools.count(1)

    def bare_sign(n: int) -> None:
        sign = private_key.sign
        for _ in range(n):
            sign(message)

    def coded_sign(n: int) -> None:
        for serial in itertools.islice(serials, n):
            encode_url(sign_code(signer, serial), BASE)

    def run_sign(n: int) -> None:
        for code in sign_codes(signer, itertools.islice(serials, n)):
            encode_url(code, BASE)

    def bare_verify(n: int) -> None:
        verify = public_key.verify
        for _ in range(n):
            verify(signature, message)

    def coded_verify(n: int) -> None:
        for _ in range(n):
            decode_and_verify(url, bases, resolver)

    return {
        "bare_sign": Measurement("Ed25519 sign (bare)", bare_sign),
        "coded_sign": Measurement("sign_code + encode_url", coded_sign),
        "run_sign": Measurement("sign_codes + encode_url (label run)", run_sign),
        "bare_verify": Measurement("Ed25519 verify (bare)", bare_verify),
        "coded_verify": Measurement("decode_and_verify (URL)", coded_verify),
    }


def measure(measurements: dict[str, Measurement], seconds: float) -> None:
    for m in measurements.values():
        m.calibrate()
    order = list(measurements.values())
    for round_no in range(max(1, round(seconds / SLICE))):
        # Alternate the order so that no measurement always runs first in a round.
        for m in order if round_no % 2 == 0 else reversed(order):
            m.slice()


def ratio(coded: Measurement, bare: Measurement) -> float:
    return statistics.median(c / b for c, b in zip(coded.rounds, bare.rounds, strict=True))


def report(measurements: dict[str, Measurement]) -> dict[str, float]:
    bare_sign, bare_verify = measurements["bare_sign"], measurements["bare_verify"]
    against = {
        "coded_sign": bare_sign,
        "run_sign": bare_sign,
        "coded_verify": bare_verify,
    }
    print(f"{'measurement':<38} {'ops/s':>10} {'µs/op':>8} {'vs bare':>8}")
    for key, m in measurements.items():
        versus = f"{ratio(m, against[key]):.3f}" if key in against else ""
        print(f"{m.name:<38} {m.per_s:>10,.0f} {1e6 / m.per_s:>8.1f} {versus:>8}")
    return {
        "sign_per_s": round(measurements["coded_sign"].per_s),
        "sign_ratio": round(ratio(measurements["coded_sign"], bare_sign), 3),
        "verify_per_s": round(measurements["coded_verify"].per_s),
        "verify_ratio": round(ratio(measurements["coded_verify"], bare_verify), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="seconds per measurement (default 2)"
    )
    args = parser.parse_args(argv)
    measurements = build()
    measure(measurements, args.seconds)
    figures = report(measurements)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
