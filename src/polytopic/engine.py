"""Encoding on a Ray cluster (``pip install 'polytopic[ray]'``; issue #22).

Encoding is the embarrassingly parallel stage of a large fit: every text is encoded on
its own. :class:`RayEngine` hands the texts an encoder has not cached yet to Ray Data
(``map_batches`` over an actor pool, so each worker loads the encoder once, on CPU or
GPU) and gives the vectors back to :meth:`Encoder.encode
<polytopic.encoders.base.Encoder.encode>`, which stores them in the same cache as it
goes: a second run, or a fit after ``polytopic encode``, reads them back. Fitting stays
on one machine.

Every row carries its position, so the result does not depend on the order in which
workers finish; a row that comes back twice (a task retried after its worker died) is
counted once, and a row that never comes back is an error, not a silent zero.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

from polytopic.errors import EncoderError, ParameterError, require

logger = logging.getLogger(__name__)

#: Rows per block handed to a worker: large enough to keep a worker's batches full,
#: small enough that a retried block redoes little.
_BLOCK_ROWS = 4096


class RayEngine:
    """Encode on a Ray cluster.

    Parameters
    ----------
    address : str, optional
        The cluster: ``"auto"`` (the one ``ray start --head`` started on this machine, or
        ``RAY_ADDRESS``), ``"ray://host:10001"``, or None to start a local Ray in this
        process.
    workers : int, optional
        Encoder actors (default: one per CPU of the cluster, or per GPU with
        ``gpus_per_worker``).
    gpus_per_worker : float
        GPUs each actor reserves (0: CPU encoding).
    """

    def __init__(self, address: str | None = "auto", workers: int | None = None, gpus_per_worker: float = 0.0):
        if workers is not None and workers < 1:
            raise ParameterError(f"workers must be a positive integer, got {workers!r}")
        self.address = address
        self.workers = workers
        self.gpus_per_worker = gpus_per_worker

    def __repr__(self) -> str:
        return f"RayEngine(address={self.address!r}, workers={self.workers})"

    def _ray(self):
        ray = require("ray", "ray", "--engine ray")
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, ignore_reinit_error=True, log_to_driver=False,
                         include_dashboard=False, logging_level=logging.WARNING)
            except ConnectionError as err:
                raise EncoderError(f"cannot reach the Ray cluster at {self.address!r} ({err}); start one with "
                                   "`ray start --head`, or give --address") from None
        return ray

    def _pool_size(self, ray) -> int:
        if self.workers is not None:
            return self.workers
        resources = ray.cluster_resources()
        per_worker = resources.get("GPU", 0) / self.gpus_per_worker if self.gpus_per_worker else resources.get("CPU", 1)
        return max(1, int(per_worker))

    def batches(self, encoder, items: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (positions in ``items``, their vectors) as the cluster's workers finish
        them: what :meth:`Encoder.encode` stores and caches."""
        ray = self._ray()
        import pyarrow as pa

        size = self._pool_size(ray)
        # One Arrow table per block, so that no all-to-all repartition task competes with
        # the actors for the cluster's CPUs (on a small cluster it waits for ever).
        block_rows = max(1, min(_BLOCK_ROWS, -(-len(items) // size)))
        dataset = ray.data.from_arrow([
            pa.table({"row": np.arange(start, min(start + block_rows, len(items)), dtype=np.int64),
                      "item": pa.array(items[start:start + block_rows], pa.large_string())})
            for start in range(0, len(items), block_rows)])
        encoded = dataset.map_batches(_EncodeWorker, fn_constructor_args=(encoder.for_worker(),),
                                      batch_size=block_rows, batch_format="numpy",
                                      compute=ray.data.ActorPoolStrategy(size=size),
                                      num_gpus=self.gpus_per_worker or None)
        logger.info("encoding %d %ss with %s on %d Ray workers", len(items), encoder.modality, encoder.name, size)
        seen = np.zeros(len(items), dtype=bool)
        for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
            rows = np.asarray(batch["row"], dtype=np.int64)
            fresh = ~seen[rows]
            seen[rows] = True
            if fresh.any():
                yield rows[fresh], np.asarray(batch["vector"], dtype=np.float32)[fresh]
        if not seen.all():
            raise EncoderError(f"the Ray cluster returned no vector for {int((~seen).sum())} of {len(items)} "
                               "inputs; those encoded are cached, run it again to finish")


class _EncodeWorker:
    """A Ray actor that holds one copy of the encoder and encodes the blocks it is given."""

    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def __call__(self, batch: dict) -> dict:
        vectors = self.encoder.encode([str(item) for item in batch["item"]])
        return {"row": batch["row"], "vector": vectors}
