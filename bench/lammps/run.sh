#!/usr/bin/env bash
# Runs the LAMMPS baseline (single core) and prints "lammps_atom_evals_per_s <value>" from LAMMPS's own Pair timing.
# Usage: bash bench/lammps/run.sh [cells-per-side=40] [steps=20]; needs Debian's lammps package (apt-get install lammps).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pot=$(cd "$here/../.." && cd ../shared/potentials 2>/dev/null && pwd)/W_zhou.eam.alloy
n=${1:-40}; steps=${2:-20}
out=$(mktemp -d)
(cd "$out" && OMP_NUM_THREADS=1 lmp -nocite -log none -echo none -var n "$n" -var steps "$steps" -var pot "$pot" -in "$here/in.eam_w.lmp" > lmp.out)
atoms=$(grep -oE "with [0-9]+ atoms" "$out/lmp.out" | tail -1 | grep -oE "[0-9]+")
pair=$(awk '/^Pair +\|/ {print $3}' "$out/lmp.out")
echo "lammps_version $(head -1 "$out/lmp.out")"
echo "lammps_atoms $atoms"
echo "lammps_pair_seconds $pair"
echo "lammps_steps $steps"
python3 -c "print('lammps_atom_evals_per_s', $atoms * $steps / $pair)"
