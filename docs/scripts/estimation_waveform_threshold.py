"""Where a matched-filter delay estimator leaves its CRB (supporting check for estimation.md).

One TX-RX pair, the waveform of the Song paper's defaults idealised as a flat spectrum of N tones
over the bandwidth B (RMS bandwidth beta = B/sqrt(12) for large N, 0.577 GHz at B = 2 GHz),
unknown complex amplitude, CN(0, 1) noise per tone, energy-to-noise ratio ENR = |alpha|^2 M_r
(after combining). ML delay: argmax over the periodic delay axis of |sum_f Y(f) S*(f) e^{j2 pi f tau}|
(zero-padded FFT, then golden-section refinement). Prints MSE / CRB, CRB = 1 / (8 pi^2 beta^2 ENR).

    python docs/scripts/estimation_waveform_threshold.py
"""

import math

import numpy as np
from scipy import optimize


def run(enr_db: float, n_tones: int = 256, draws: int = 4000, seed: int = 1) -> float:
    rng = np.random.Generator(np.random.PCG64(seed))
    f = (np.arange(n_tones) - (n_tones - 1) / 2) / n_tones  # B = 1, centred: sum f |S|^2 = 0
    beta2 = np.mean(f**2)
    enr = 10 ** (enr_db / 10)
    tau0 = rng.uniform(0, n_tones, draws)  # delay in units of 1/B, anywhere in the period
    phase = np.exp(2j * math.pi * rng.random(draws))
    s = 1 / math.sqrt(n_tones)
    y = math.sqrt(enr) * phase[:, None] * s * np.exp(-2j * math.pi * f[None] * tau0[:, None]) + (
        rng.standard_normal((draws, n_tones)) + 1j * rng.standard_normal((draws, n_tones))
    ) / math.sqrt(2)
    pad = 16
    spec = np.zeros((draws, n_tones * pad), complex)
    spec[:, :n_tones] = y * s
    corr = np.abs(np.fft.ifft(spec * np.exp(-2j * math.pi * 0), axis=1))  # |sum_f y s e^{+j 2 pi f tau}|
    # the tone indices start at 0: the centred frequencies add a known phase ramp, |.| ignores it
    grid = np.arange(n_tones * pad) / pad
    err = np.empty(draws)
    for i in range(draws):
        j = int(np.argmax(corr[i]))

        def neg(t, i=i):
            return -abs(np.sum(y[i] * s * np.exp(2j * math.pi * f * t)))

        t = optimize.minimize_scalar(neg, bracket=(grid[j] - 1 / pad, grid[j], grid[j] + 1 / pad)).x
        d = (t - tau0[i] + n_tones / 2) % n_tones - n_tones / 2
        err[i] = d
    crb = 1 / (8 * math.pi**2 * beta2 * enr)
    return float(np.mean(err**2) / crb)


if __name__ == "__main__":
    for enr_db in (-5, 0, 5, 8, 10, 12, 15, 20, 25):
        print(f"ENR {enr_db:>3} dB: MSE/CRB = {run(enr_db):.3g}")
