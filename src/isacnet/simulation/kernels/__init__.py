"""Monte Carlo kernels, one module per quantity: each owns its constants and its outputs and picks
a backend core (docs/design.md, "The backend contract").

``song``        Song et al.: CRLB (18), Jensen bound (23), Lemma 3 sums (:class:`SongKernel`)
``meng_crlb``   Meng & Masouros: the sensing CRLB of the N nearest BSs, and on a torus
``meng_rate``   Meng & Masouros: the CoMP rate (8)-(9) (models paper, zf, full)
``meng_design`` a cooperative design (L, N, p^c): rate and CRLB together
``localization`` position estimators against the CRLB, and the AoA gain
"""
