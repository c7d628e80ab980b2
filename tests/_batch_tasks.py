"""Tasks for tests/test_distributed.py's Dask batch (importable by the workers)."""


def lif_count(I):
    import braindyn as bd

    res = bd.run(bd.neurons.LIF(V_rest=0.0, V_reset=0.0, V_th=20.0, tau=10.0, t_ref=0.0), 200.0, inputs=I, record="spike",
                 progress=False)
    return {"count": res.spike_count(), "rate_hz": res.rate_hz()}
