"""Writes the ASE golden extended-XYZ files used by ExtXyzTests (run once; the outputs are committed).

Run with Debian's python3-ase (ASE 3.22.1):  /usr/bin/python3 make_golden.py
All values are fixed by this script (no random numbers), so the test can state them independently.
"""
import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

# 1. Periodic bcc W, 2x2x2 conventional cells (16 atoms), with calculator results, extra columns and info keys.
a = 3.1434
w = bulk("W", "bcc", a=a, cubic=True).repeat((2, 2, 2))
n = len(w)
pos = w.get_positions()
pos[3] += [0.01, -0.02, 0.03]
w.set_positions(pos)
w.set_tags(np.arange(n) % 3)                                           # tags:I:1
w.set_momenta(np.array([[0.1 * i, -0.2 * i, 0.05] for i in range(n)]))  # momenta:R:3
w.new_array("region", np.array(["QM" if i < 4 else "MM" for i in range(n)]))  # region:S:1
w.new_array("fixed", np.array([i % 2 == 0 for i in range(n)]))          # fixed:L:1
w.info["note"] = "made by ASE"
w.info["step"] = 7
w.info["temperature"] = 300.5
w.info["relaxed"] = True
w.info["virial"] = np.array([[1.5, 0.25, -0.125], [0.25, -2.0, 0.5], [-0.125, 0.5, 3.0]])
energy = -142.123456789
forces = np.array([[0.001 * i, -0.002 * i, 0.003 * (i % 4)] for i in range(n)])
energies = np.array([-8.8 - 0.001 * i for i in range(n)])
vol = w.get_volume()
virial = w.info["virial"]
sigma = -virial / vol
voigt = [sigma[0, 0], sigma[1, 1], sigma[2, 2], sigma[1, 2], sigma[0, 2], sigma[0, 1]]
w.calc = SinglePointCalculator(w, energy=energy, forces=forces, energies=energies, stress=voigt)
write("ase_bcc_w.xyz", w, format="extxyz")

# 2. A cluster: no cell, no periodicity (ASE omits Lattice).
c = Atoms("W3", positions=[[0.0, 0.0, 0.0], [2.7222, 0.0, 0.0], [0.0, 2.7222, 1.0e-3]], pbc=False)
write("ase_cluster.xyz", c, format="extxyz")

# 3. Two frames, quasi-2D periodicity (F F T), different atom counts.
f1 = Atoms("W2", positions=[[0.0, 0.0, 0.0], [1.5717, 1.5717, 1.5717]],
           cell=[[20.0, 0.0, 0.0], [0.0, 20.0, 0.0], [0.0, 0.0, 3.1434]], pbc=[False, False, True])
f1.calc = SinglePointCalculator(f1, energy=-17.5)
f2 = Atoms("W3", positions=[[0.0, 0.0, 0.0], [1.5717, 1.5717, 1.5717], [3.1434, 0.0, 0.0]],
           cell=[[20.0, 0.0, 0.0], [0.0, 20.0, 0.0], [0.0, 0.0, 3.1434]], pbc=[False, False, True])
f2.calc = SinglePointCalculator(f2, energy=-26.25)
write("ase_quasi2d_frames.xyz", [f1, f2], format="extxyz")

# 4. A triclinic cell (primitive bcc W vectors) and a deliberately non-symmetric `virial` info entry: pins the
#    order of the 9 numbers (Lattice rows a1, a2, a3; 3x3 info matrices in Fortran/column-major order), plus a
#    JSON-valued info key (ASE escapes its quotes with backslashes).
p = bulk("W", "bcc", a=a)  # primitive cell: a1 = (-a/2, a/2, a/2), a2 = (a/2, -a/2, a/2), a3 = (a/2, a/2, -a/2)
p.info["virial"] = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
p.info["labels"] = ["core", "far field"]
write("ase_triclinic.xyz", p, format="extxyz")
