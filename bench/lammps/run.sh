#!/usr/bin/env bash
# Runs the LAMMPS baseline (single core) and prints "lammps_atom_evals_per_s <value>" from LAMMPS's own Pair timing.
# Usage: bash bench/lammps/run.sh [cells-per-side=40] [steps=20]; needs Debian's lammps package (apt-get install lammps).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# the setfl file: $QMMM_POTENTIALS, else shared/potentials in an ancestor of the repository (as the F# harness looks)
pot=""
if [ -n "${QMMM_POTENTIALS:-}" ]; then pot="$QMMM_POTENTIALS/W_zhou.eam.alloy"; fi
d=$(cd "$here/../.." && pwd)
while [ -z "$pot" ] && [ "$d" != "/" ]; do
  if [ -f "$d/shared/potentials/W_zhou.eam.alloy" ]; then pot="$d/shared/potentials/W_zhou.eam.alloy"; fi
  d=$(dirname "$d")
done
[ -f "$pot" ] || { echo "W_zhou.eam.alloy not found (set QMMM_POTENTIALS)" >&2; exit 1; }
n=${1:-40}; steps=${2:-20}
out=$(mktemp -d)
(cd "$out" && OMP_NUM_THREADS=1 lmp -nocite -log none -echo none -var n "$n" -var steps "$steps" -var pot "$pot" -in "$here/in.eam_w.lmp" > lmp.out)
atoms=$(grep -oE "with [0-9]+ atoms" "$out/lmp.out" | tail -1 | grep -oE "[0-9]+")
pair=$(awk '/^Pair +\|/ {print $3}' "$out/lmp.out")
echo "lammps_version $(head -1 "$out/lmp.out")"
echo "lammps_atoms $atoms"
echo "lammps_pair_seconds $pair"
echo "lammps_steps $steps"
echo "lammps_cpu_use $(grep -oE "^[0-9.]+% CPU use" "$out/lmp.out" | head -1 | cut -d' ' -f1)"
python3 -c "print('lammps_atom_evals_per_s', $atoms * $steps / $pair)"
