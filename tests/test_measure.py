"""braindyn.measure against Elephant (float64, to 1e-6) where Elephant has the measure, otherwise
against closed forms or NumPy; jit/vmap of every array function; records (SpikeTrain, RunResult)
equal to arrays; errors that name the fix. The pictures of braindyn.plot.network are at the end."""
import math
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import scipy.special

import braindyn as bd
from braindyn import measure as bm
from braindyn._errors import BraindynError

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),      # quantities, under Elephant
              pytest.mark.filterwarnings("ignore::UserWarning:elephant.*")]

DT = 0.1
T, N = 20000, 12          # 2 s of 12 neurons at 0.1 ms


@pytest.fixture(scope="module")
def raster():
    """Bernoulli trains at 5-40 Hz plus common events (so counts are correlated)."""
    rng = np.random.default_rng(0)
    p = rng.uniform(5, 40, N) * DT / 1000
    common = rng.random(T) < 0.02
    return (rng.random((T, N)) < p) | (common[:, None] & (rng.random((T, N)) < 0.3))


# ---------------------------------------------------------------------------------------------
# Elephant
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def el(raster):
    try:
        import neo
        import quantities as pq
        from elephant import kernels, spectral, spike_train_correlation, statistics
        from elephant.conversion import BinnedSpikeTrain
    except ImportError:
        pytest.skip("Elephant is not installed, so the comparisons with it are skipped (the closed-form and "
                    "NumPy checks still run). Fix: pip install -e '.[test]' (or pip install elephant).")
    # Row k of the raster is the step [k dt, (k+1) dt): its spike gets the time (k + 1/2) dt, inside Elephant's
    # left-closed bins [j b, (j+1) b) exactly when braindyn puts row k in bin j.
    trains = [neo.SpikeTrain((np.nonzero(raster[:, i])[0] + 0.5) * DT * pq.ms, t_start=0 * pq.ms,
                             t_stop=T * DT * pq.ms) for i in range(N)]

    class E:
        pass

    e = E()
    e.pq, e.trains, e.stat, e.corr, e.kernels, e.spectral, e.Binned = (pq, trains, statistics,
                                                                      spike_train_correlation, kernels, spectral,
                                                                      BinnedSpikeTrain)
    return e


TOL = 1e-6


def test_rates_and_time_histogram_match_elephant(raster, el):
    pq = el.pq
    ref = np.array([float(el.stat.mean_firing_rate(st).rescale(pq.Hz)) for st in el.trains])
    assert np.abs(np.asarray(bm.neuron_rates(raster, DT)) - ref).max() < TOL
    th = el.stat.time_histogram(el.trains, 5.0 * pq.ms, output="rate").rescale(pq.Hz)
    mine = np.asarray(bm.bin_counts(raster, DT, bin=5.0)).mean(1) / (5.0 / 1000)
    assert mine.shape == (400,) and np.abs(np.asarray(th).ravel() - mine).max() < TOL


def test_isi_and_cv_match_elephant(raster, el):
    times = np.asarray(bm.spike_times(raster, DT, t0=0.5 * DT))
    d, cv = np.asarray(bm.isi(times)), np.asarray(bm.cv_isi(times))
    for i, st in enumerate(el.trains):
        ref = np.asarray(el.stat.isi(st).magnitude)
        mine = d[i][~np.isnan(d[i])]
        assert mine.shape == ref.shape and np.abs(mine - ref).max() < TOL
        assert abs(cv[i] - el.stat.cv(ref)) < TOL            # Elephant's cv: ddof = 0


def test_fano_factor_matches_elephant_on_windows(raster, el):
    pq, w = el.pq, 100.0
    ref = [el.stat.fanofactor([st.time_slice(j * w * pq.ms, (j + 1) * w * pq.ms) for j in range(int(T * DT / w))])
           for st in el.trains]
    assert np.abs(np.asarray(bm.fano_factor(raster, DT, bin=w)) - np.array(ref)).max() < TOL


def test_count_correlation_and_cross_correlogram_match_elephant(raster, el):
    pq, b, L = el.pq, 5.0, 10

    def binned(sts):
        return el.Binned(sts, bin_size=b * pq.ms, t_start=0 * pq.ms, t_stop=T * DT * pq.ms)

    C = np.asarray(bm.count_correlation(raster, DT, bin=b))
    ref = el.corr.correlation_coefficient(binned(el.trains))
    assert np.abs(C - ref).max() < TOL and 0.05 < C[0, 1] < 0.9      # the common events correlate the counts
    for i, j in [(0, 1), (3, 2), (4, 4)]:
        cch, lags = el.corr.cross_correlation_histogram(binned(el.trains[i]), binned(el.trains[j]), window=[-L, L])
        ml, mc = bm.cross_correlogram(raster, DT, pair=(i, j), bin=b, max_lag=L * b)
        assert np.array_equal(np.asarray(ml), lags * b)
        assert np.abs(np.asarray(mc) - np.asarray(cch).ravel()).max() < TOL


@pytest.mark.parametrize("kernel", ["gaussian", "rect"])
def test_population_rate_matches_elephant_instantaneous_rate(raster, el, kernel):
    pq = el.pq
    if kernel == "gaussian":
        ker, width = el.kernels.GaussianKernel(2.0 * pq.ms), 2.0
    else:  # Elephant's rectangular kernel of std sigma is 2 sqrt(3) sigma wide: 3.5 ms = 35 steps
        ker, width = el.kernels.RectangularKernel(1.75 / math.sqrt(3) * pq.ms), 3.5
    # cutoff 8 sigma: Elephant samples the density (sum 1 - 2e-15) where braindyn normalises the sum
    ref = el.stat.instantaneous_rate(el.trains, sampling_period=DT * pq.ms, kernel=ker, cutoff=8.0)
    ref = np.asarray(ref.rescale(pq.Hz)).mean(1)
    mine = np.asarray(bm.population_rate(raster, DT, width=width, kernel=kernel, cutoff=8.0))
    assert mine.shape == ref.shape == (T,) and np.abs(mine - ref).max() < TOL


def test_welch_spectrum_matches_elephant(raster, el):
    x = np.asarray(bm.population_rate(raster, DT, width=1.0))
    f, P = el.spectral.welch_psd(x, len_segment=2048, overlap=0.5, fs=1000.0 / DT)
    mf, mP = bm.power_spectrum(x, DT, segment=204.8)
    assert np.abs(np.asarray(mf) - f).max() < TOL and np.abs(np.asarray(mP) - P).max() < TOL


# ---------------------------------------------------------------------------------------------
# Closed forms and NumPy references
# ---------------------------------------------------------------------------------------------
def test_bernoulli_trains_cv_and_fano_closed_forms():
    # A Bernoulli raster (spike probability p per step) has geometric ISIs, CV = sqrt(1 - p), and binomial
    # counts, Fano = 1 - p: the discrete-time Poisson process (CV = Fano = 1 as p -> 0).
    p, n = 0.02, 40
    r = np.random.default_rng(1).random((60000, n)) < p
    cv = np.asarray(bm.cv_isi(bm.spike_times(r, 1.0)))
    ff = np.asarray(bm.fano_factor(r, 1.0, bin=100.0))
    assert abs(cv.mean() - math.sqrt(1 - p)) < 0.02      # 1200 intervals per train: sd of the mean ~ 0.005
    assert abs(ff.mean() - (1 - p)) < 0.04               # 600 windows per train: sd of the mean ~ 0.009


def test_regular_train_cv_and_fano_zero():
    r = np.zeros((5000, 3), bool)
    r[7::25, 0] = r[::40, 1] = r[3::100, 2] = True
    assert np.abs(np.asarray(bm.cv_isi(bm.spike_times(r, DT)))).max() < 1e-12
    assert np.abs(np.asarray(bm.fano_factor(r, DT, bin=20.0))).max() < 1e-12   # 200 steps: a multiple of each period
    assert np.allclose(bm.neuron_rates(r, DT), [400.0, 250.0, 100.0])


def test_cv_conventions():
    t = jnp.array([[0.0, 1.0, 3.0, 4.0, 6.0], [0.0, 2.0, jnp.nan, jnp.nan, jnp.nan]])
    cv0, cv1 = bm.cv_isi(t), bm.cv_isi(t, ddof=1)
    assert float(cv0[0]) == pytest.approx(np.std([1, 2, 1, 2]) / 1.5)
    assert float(cv1[0]) == pytest.approx(np.std([1, 2, 1, 2], ddof=1) / 1.5)
    assert np.isnan(cv0[1])                              # one interval: undefined


def test_synchrony_closed_forms():
    rng = np.random.default_rng(2)
    s = rng.standard_normal((20000, 1))
    assert float(bm.synchrony(np.repeat(s, 30, axis=1))) == pytest.approx(1.0, abs=1e-12)
    n = 100
    noise = rng.standard_normal((20000, n))
    assert float(bm.synchrony(noise)) == pytest.approx(1 / math.sqrt(n), rel=0.05)
    # shared signal (variance 1) plus private noise (variance 4): chi^2 = (1 + 4/N) / (1 + 4)
    chi2 = float(bm.synchrony(s + 2.0 * noise, squared=True))
    assert chi2 == pytest.approx((1 + 4 / n) / 5, rel=0.05)


def test_smooth_against_numpy():
    x = np.random.default_rng(3).random(300)
    for m in (4, 5):                                   # even window: one more row in the past (numpy "same")
        assert np.allclose(bm.smooth(x, 0.5, width=m * 0.5), np.convolve(x, np.ones(m) / m, "same"), atol=1e-12)
    j = np.arange(-15, 16)
    h = np.exp(-0.5 * (j * 0.5 / 1.5) ** 2)
    ref = np.convolve(x, h / h.sum(), "same")
    assert np.allclose(bm.smooth(x, 0.5, width=1.5, kernel="gaussian"), ref, atol=1e-12)
    # a constant raster: the rate is (active fraction) / dt away from the edges
    r = np.zeros((400, 4), bool)
    r[:, :1] = True
    rate = np.asarray(bm.population_rate(r, 0.5, width=10.0))
    assert np.allclose(rate[20:-20], 0.25 / 0.5e-3)


def test_spectra_against_scipy():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(3001)
    f, P = bm.power_spectrum(x, 0.5, method="periodogram")
    rf, rP = scipy.signal.periodogram(x, fs=2000.0)
    assert np.allclose(f, rf) and np.allclose(P, rP, rtol=1e-10, atol=1e-14)
    assert float(np.sum(P) * (f[1] - f[0])) == pytest.approx(np.var(x), rel=1e-10)        # Parseval
    f, P = bm.power_spectrum(x, 0.5, segment=100.5, overlap=0.25)                         # odd segments
    rf, rP = scipy.signal.welch(x, fs=2000.0, nperseg=201, noverlap=50)
    assert np.allclose(f, rf) and np.allclose(P, rP, rtol=1e-10, atol=1e-14)
    t = np.arange(8000) * 0.25
    f, P = bm.power_spectrum(np.sin(2 * np.pi * 0.012 * t), 0.25, segment=500.0)
    assert float(f[np.argmax(P)]) == 12.0


def test_lfp_proxy_against_numpy():
    rng = np.random.default_rng(5)
    ampa, gaba = -rng.random((200, 7)), rng.random((200, 7))   # inward AMPA, outward GABA currents
    lfp = np.asarray(bm.lfp_proxy(ampa, gaba, 0.1))
    d = 60                                                    # 6 ms at 0.1 ms
    ref = np.array([np.abs(ampa[k - d]).sum() - 1.65 * np.abs(gaba[k]).sum() for k in range(d, 200)])
    assert lfp.shape == (140,) and np.allclose(lfp, ref, atol=1e-12)
    assert np.allclose(bm.lfp_proxy(ampa, gaba, 0.1, delay=0.0, alpha=1.0),
                       np.abs(ampa).sum(1) - np.abs(gaba).sum(1))


def test_bump_centre_and_width():
    x = np.linspace(-np.pi, np.pi, 1024, endpoint=False)
    for c in (0.3, 3.1, -2.9):                         # near +-pi the bump wraps around the ring
        d = np.angle(np.exp(1j * (x - c)))
        centre, w = bm.bump(np.exp(-0.5 * (d / 0.25) ** 2), x)
        assert float(centre) == pytest.approx(c, abs=1e-10)
        assert float(w) == pytest.approx(2 * math.sqrt(2 * math.log(2)) * 0.25, rel=2e-4)
    kappa = 5.0
    xs = np.linspace(-np.pi, np.pi, 128, endpoint=False)
    centre, w = bm.bump(np.exp(kappa * np.cos(xs - 1.0)), xs, method="circular")
    R = scipy.special.i1(kappa) / scipy.special.i0(kappa)
    assert float(centre) == pytest.approx(1.0, abs=1e-12) and float(w) == pytest.approx(math.sqrt(-2 * math.log(R)))


def test_population_vector_decodes_cosine_tuning():
    pref = np.linspace(0.0, 360.0, 24, endpoint=False)
    thetas = np.array([-170.0, -45.0, 10.0, 135.0])
    rates = 20.0 + 15.0 * np.cos(np.deg2rad(pref[None, :] - thetas[:, None]))
    est, R = bm.population_vector(rates, pref, period=360.0)
    assert np.allclose(est, thetas, atol=1e-10) and np.allclose(R, 15.0 / 40.0)
    counts = np.random.default_rng(6).poisson(rates * 10.0)                 # noisy counts: close, not exact
    est, _ = bm.population_vector(counts, pref, period=360.0)
    assert np.abs((np.asarray(est) - thetas + 180) % 360 - 180).max() < 5.0


# ---------------------------------------------------------------------------------------------
# jit and vmap; records
# ---------------------------------------------------------------------------------------------
ARRAY_FNS = {
    "bin_counts": lambda r: bm.bin_counts(r, DT, bin=2.0),
    "neuron_rates": lambda r: bm.neuron_rates(r, DT),
    "population_rate": lambda r: bm.population_rate(r, DT, width=2.0, kernel="gaussian"),
    "spike_times": lambda r: bm.spike_times(r, DT, max_spikes=30),
    "cv_isi": lambda r: bm.cv_isi(bm.spike_times(r, DT, max_spikes=30)),
    "fano_factor": lambda r: bm.fano_factor(r, DT, bin=5.0),
    "count_correlation": lambda r: bm.count_correlation(r, DT, bin=5.0),
    "cross_correlogram": lambda r: bm.cross_correlogram(r, DT, pair=(0, 1), bin=1.0, max_lag=5.0),
    "synchrony": lambda r: bm.synchrony(bm.smooth(r, DT, width=3.0)),
    "power_spectrum": lambda r: bm.power_spectrum(r.sum(1), DT, segment=20.0),
    "lfp_proxy": lambda r: bm.lfp_proxy(r, 0.5 * r, DT, delay=1.0),
    "population_vector": lambda r: bm.population_vector(r.sum(0), jnp.linspace(0, 2 * jnp.pi, 6, endpoint=False)),
    "bump": lambda r: bm.bump(r.sum(0) + 1.0, jnp.linspace(0, 2 * jnp.pi, 6, endpoint=False)),
}


@pytest.mark.parametrize("fn", sorted(ARRAY_FNS))
def test_array_functions_jit_and_vmap(fn):
    f = ARRAY_FNS[fn]
    rs = np.random.default_rng(7).random((2, 400, 6)) < 0.05
    eager = [f(jnp.asarray(r)) for r in rs]
    jitted = jax.jit(f)(jnp.asarray(rs[0]))
    batched = jax.vmap(f)(jnp.asarray(rs))
    for k in range(2):
        for e, b in zip(jax.tree.leaves(eager[k]), jax.tree.leaves(jax.tree.map(lambda x: x[k], batched))):
            np.testing.assert_allclose(b, e, rtol=1e-12, atol=1e-12, equal_nan=True)
    for e, j in zip(jax.tree.leaves(eager[0]), jax.tree.leaves(jitted)):
        np.testing.assert_allclose(j, e, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.fixture(scope="module")
def poisson_run():
    # 6000 rows: more than one 4096-row block of the bit-packed record
    return bd.run(bd.neurons.PoissonGroup(n=40, rate=30.0), 600.0, record="spike", key=3)


def test_records_equal_arrays(poisson_run):
    res = poisson_run
    train = res["spike"]
    r = np.asarray(train)
    for src in (train, res):
        assert isinstance(bm.neuron_rates(src), np.ndarray)
        assert np.allclose(bm.neuron_rates(src), bm.neuron_rates(r, DT))
        assert np.allclose(bm.bin_counts(src, bin=3.0), bm.bin_counts(r, DT, bin=3.0))
        assert np.allclose(bm.population_rate(src, width=5.0), bm.population_rate(r, DT, width=5.0))
        assert np.allclose(bm.fano_factor(src, bin=50.0), bm.fano_factor(r, DT, bin=50.0))
        assert np.allclose(bm.count_correlation(src, bin=10.0), bm.count_correlation(r, DT, bin=10.0), equal_nan=True)
        for a, b in zip(bm.cross_correlogram(src, pair=(1, 2), bin=2.0, max_lag=20.0),
                        bm.cross_correlogram(r, DT, pair=(1, 2), bin=2.0, max_lag=20.0)):
            assert np.allclose(a, b)
        times = bm.spike_times(src)
        assert np.allclose(times, bm.spike_times(r, DT, t0=res.ts[0]), equal_nan=True)
        assert np.allclose(bm.isi(src), bm.isi(times), equal_nan=True)
        assert np.allclose(bm.cv_isi(src), bm.cv_isi(times), equal_nan=True)
    assert np.allclose(bm.neuron_rates(res), res.rates_hz())
    assert abs(float(np.mean(bm.neuron_rates(res))) - 30.0) < 3.0


def test_errors_name_the_fix(poisson_run):
    r = np.zeros((100, 3), bool)
    with pytest.raises(BraindynError, match=r"bin=0.25 ms is not a whole number of steps.*Fix: bin=0.2 or bin=0.3"):
        bm.fano_factor(r, 0.1, bin=0.25)
    with pytest.raises(BraindynError, match="needs its step dt"):
        bm.neuron_rates(r)
    with pytest.raises(BraindynError, match=r"shape \(steps, neurons\).*raster\[:, None\]"):
        bm.neuron_rates(np.zeros(100), 0.1)
    with pytest.raises(BraindynError, match="Did you mean 'gaussian'"):
        bm.population_rate(r, 0.1, kernel="gauss")
    with pytest.raises(BraindynError, match="max_spikes"):
        jax.jit(lambda x: bm.spike_times(x, 0.1))(r)
    with pytest.raises(BraindynError, match="traced value"):
        jax.jit(lambda x, dt: bm.neuron_rates(x, dt))(r, 0.1)
    with pytest.raises(BraindynError, match="differs from the record's interval"):
        bm.neuron_rates(poisson_run["spike"], 0.2)
    with pytest.raises(BraindynError, match="same times"):
        bm.lfp_proxy(np.ones((10, 2)), np.ones((11, 2)), 0.1)
    with pytest.raises(BraindynError, match="overlap"):
        bm.power_spectrum(np.ones(100), 0.1, overlap=1.0)


# ---------------------------------------------------------------------------------------------
# Pictures (braindyn.plot.network)
# ---------------------------------------------------------------------------------------------
def _labels_inside(fig):
    """Everything drawn (axis labels, tick labels, titles) lies inside the figure: no label is cut."""
    fig.canvas.draw()
    tight = fig.get_tightbbox(fig.canvas.get_renderer())          # inches
    w, h = fig.get_size_inches()
    assert tight.x0 >= -0.01 and tight.y0 >= -0.01 and tight.x1 <= w + 0.01 and tight.y1 <= h + 0.01, \
        f"something drawn leaves the figure: {tight} vs (0, 0, {w}, {h})"


def test_raster_rate_subsamples_shares_time_and_writes(tmp_path, poisson_run):
    import matplotlib.pyplot as plt
    from braindyn.plot import network as pn

    r = np.zeros((300, 5000), bool)
    r[::7, :] = np.random.default_rng(8).random((43, 5000)) < 0.05
    fig, (ax, ax_rate) = pn.raster_rate(r, 0.1, max_rows=2000, width=2.0)
    rows = np.unique(ax.lines[0].get_ydata())
    assert 1000 < len(rows) <= 2000 and rows.max() > 4900          # evenly spaced over the whole population
    assert "2000 of 5000" in ax.get_ylabel()
    assert ax.get_shared_x_axes().joined(ax, ax_rate) and ax.get_xlabel() == "" and ax_rate.get_xlabel() == "t (ms)"
    assert np.allclose(ax_rate.lines[0].get_ydata(), bm.population_rate(r, 0.1, width=2.0))   # all neurons' rate
    _labels_inside(fig)
    fig.savefig(tmp_path / "raster.png", dpi=50)
    assert (tmp_path / "raster.png").stat().st_size > 0
    plt.close(fig)
    fig, (ax, _) = pn.raster_rate(poisson_run)                    # a RunResult: its own times, all 40 rows
    assert len(np.unique(ax.lines[0].get_ydata())) == 40 and ax.get_ylabel() == "neuron index"
    assert ax.lines[0].get_xdata().min() >= poisson_run.ts[0]
    plt.close(fig)


def test_animations_write_gif_and_explain_mp4(tmp_path):
    from braindyn.plot import network as pn

    x = np.linspace(-np.pi, np.pi, 32, endpoint=False)
    u = np.exp(-(x[None, :] - np.linspace(-2, 2, 6)[:, None]) ** 2)
    p = pn.animate_1d({"input": u, "response": 0.5 * u}, tmp_path / "ring.gif", positions=x, ts=np.arange(6.0),
                      every=2, dpi=40)
    from PIL import Image

    with Image.open(p) as im:
        assert im.n_frames == 3
    p = pn.animate_2d(np.random.default_rng(9).random((4, 6 * 5)), tmp_path / "sheet.gif", shape=(6, 5), dpi=40)
    assert p.stat().st_size > 0
    from matplotlib import animation

    if animation.writers.is_available("ffmpeg"):
        assert pn.animate_1d(u, tmp_path / "ring.mp4", dpi=40).stat().st_size > 0
    else:
        with pytest.raises(BraindynError, match=r"MP4 needs ffmpeg.*Fix: save a GIF \('ring.gif'\)"):
            pn.animate_1d(u, tmp_path / "ring.mp4")
    with pytest.raises(BraindynError, match=r"'.avi'.*'.gif'"):
        pn.animate_1d(u, tmp_path / "ring.avi")
    with pytest.raises(BraindynError, match=r"shape=\(H, W\)"):
        pn.animate_2d(np.zeros((4, 30)), tmp_path / "x.gif")


def test_psychometric_and_energy_plots_write(tmp_path):
    import matplotlib.pyplot as plt
    from braindyn.plot import network as pn

    c = np.array([3.2, 6.4, 12.8, 25.6, 51.2])
    fig, axes = pn.psychometric(c, [0.6, 0.7, 0.85, 0.97, 1.0], reaction_time=[700, 620, 540, 450, 380],
                                accuracy_err=np.full(5, 0.02), rt_err=np.full(5, 15.0))
    assert len(axes) == 2 and axes[0].get_xscale() == "log" and axes[1].get_ylabel() == "reaction time (ms)"
    _labels_inside(fig)
    fig.savefig(tmp_path / "psy.png", dpi=50)
    plt.close(fig)
    fig, axes = pn.psychometric([0.0, 10.0, 20.0], [0.5, 0.8, 0.95])             # zero coherence: linear axis
    assert len(axes) == 1 and axes[0].get_xscale() == "linear"
    plt.close(fig)
    fig, ax = pn.energy_trace(np.c_[-np.arange(10.0), -2 * np.arange(10.0)], ts=np.arange(10) * 0.5,
                              label=["a", "b"])
    assert ax.get_xlabel() == "t (ms)" and len(ax.lines) == 2
    _labels_inside(fig)
    fig.savefig(tmp_path / "energy.png", dpi=50)
    assert (tmp_path / "psy.png").stat().st_size > 0 and (tmp_path / "energy.png").stat().st_size > 0
    plt.close(fig)
