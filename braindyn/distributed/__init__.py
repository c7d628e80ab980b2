"""Beyond one device: one network sharded over devices and processes, batches over machines.

* :mod:`~braindyn.distributed.shard` -- a :class:`~braindyn.Network` cut into blocks of neurons
  (synapses stored with their targets, spikes all-gathered once per step);
* :mod:`~braindyn.distributed.run` -- :func:`run_sharded` / :func:`simulate_sharded` (one
  ``jax.shard_map`` around :func:`braindyn.simulate`), checkpoints per shard;
* :mod:`~braindyn.distributed.launch` -- several processes through ``jax.distributed``
  (``python -m braindyn.distributed.launch -n 2 script.py``; imported on its own, not here, so
  that ``-m`` runs it cleanly).
"""
from .run import (ShardedResult, load_sharded, make_mesh, prepare_sharded, run_sharded, save_sharded, simulate_sharded,
                  to_host)
from .shard import (AXIS, BlockPopulation, BlockProceduralConn, ShardedNetwork, StateLayout, block, block_size,
                    shard_network, unblock)

__all__ = ["AXIS", "BlockPopulation", "BlockProceduralConn", "ShardedNetwork", "StateLayout", "block", "block_size",
           "shard_network", "unblock", "ShardedResult", "load_sharded", "make_mesh", "prepare_sharded", "run_sharded",
           "save_sharded", "simulate_sharded", "to_host"]
