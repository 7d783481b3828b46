"""Checks that ASE reads Qmmm's extxyz output identically to ASE's own files (manual, one-time check)."""
import sys
import numpy as np
from ase.io import read
d = sys.argv[1]
theirs = read(d + "ase_bcc_w.xyz", ":") + read(d + "ase_triclinic.xyz", ":") + read(d + "ase_cluster.xyz", ":") + read(d + "ase_quasi2d_frames.xyz", ":")
ours = read(sys.argv[2], ":")
assert len(theirs) == len(ours), (len(theirs), len(ours))
for k, (a, b) in enumerate(zip(theirs, ours)):
    assert a.get_chemical_symbols() == b.get_chemical_symbols(), k
    assert np.array_equal(a.positions, b.positions), k
    assert np.array_equal(a.cell[:], b.cell[:]), k
    assert list(a.pbc) == list(b.pbc), k
    assert sorted(a.arrays) == sorted(b.arrays), (k, sorted(a.arrays), sorted(b.arrays))
    for name in a.arrays:
        assert np.array_equal(a.arrays[name], b.arrays[name]), (k, name)
    assert sorted(a.info) == sorted(b.info), (k, a.info.keys(), b.info.keys())
    for key in a.info:
        va, vb = a.info[key], b.info[key]
        assert (np.array_equal(va, vb) if isinstance(va, np.ndarray) else va == vb), (k, key, va, vb)
    if a.calc is None:
        assert b.calc is None, k
    else:
        assert sorted(a.calc.results) == sorted(b.calc.results), (k, a.calc.results.keys(), b.calc.results.keys())
        for key in a.calc.results:
            assert np.array_equal(a.calc.results[key], b.calc.results[key]), (k, key)
print("ASE reads ours identically:", len(ours), "frames")
