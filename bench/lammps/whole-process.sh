#!/usr/bin/env bash
# Whole-process comparison with LAMMPS, as a user experiences it: read a configuration, evaluate energy, per-atom
# energies, forces and virial with the W_zhou setfl file, write the per-atom results; wall time and peak memory of the
# whole process (/usr/bin/time), interleaved A B A B ..., medians, with the load average.
#   qmmm eval --model setfl:W_zhou.eam.alloy --threads T in.xyz -o out.xyz
#   lmp: read_data, pair_style eam/alloy, compute pe/atom, dump id x y z fx fy fz c_pe, run 0 (neighbor skin S)
# Usage: bash bench/lammps/whole-process.sh [cells-per-side=40] [reps=5] [threads=1] [lammps-skin=0.0]
# Needs Debian's lammps (apt-get install lammps) and a Release build of src/Qmmm.Cli.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-40}; reps=${2:-5}; threads=${3:-1}; skin=${4:-0.0}
pot=""
d="$root"
while [ -z "$pot" ] && [ "$d" != "/" ]; do
  [ -f "$d/shared/potentials/W_zhou.eam.alloy" ] && pot="$d/shared/potentials/W_zhou.eam.alloy"
  d=$(dirname "$d")
done
[ -f "$pot" ] || { echo "W_zhou.eam.alloy not found" >&2; exit 1; }
qmmm="dotnet $root/src/Qmmm.Cli/bin/Release/net10.0/qmmm.dll"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the same perturbed bcc W configuration for both programs
$qmmm lattice --element W --lattice bcc --a 3.165 --repeat "${n}x${n}x${n}" --perturb 0.05 --seed 12345 -o "$work/in.xyz" >/dev/null
python3 - "$work/in.xyz" "$work/in.data" <<'EOF'
import sys
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f:
    n = int(f.readline())
    header = f.readline()
    lat = [float(v) for v in header.split('Lattice="')[1].split('"')[0].split()]
    rows = [f.readline().split() for _ in range(n)]
assert lat[1] == lat[2] == lat[3] == lat[5] == lat[6] == lat[7] == 0.0, "orthogonal cell expected"
with open(dst, "w") as g:
    g.write("bcc W from in.xyz\n\n%d atoms\n1 atom types\n\n" % n)
    g.write("0 %r xlo xhi\n0 %r ylo yhi\n0 %r zlo zhi\n\nMasses\n\n1 183.84\n\nAtoms # atomic\n\n" % (lat[0], lat[4], lat[8]))
    for i, r in enumerate(rows):
        g.write("%d 1 %s %s %s\n" % (i + 1, r[1], r[2], r[3]))
EOF
cat > "$work/in.lmp" <<EOF
units metal
boundary p p p
atom_style atomic
read_data $work/in.data
pair_style eam/alloy
pair_coeff * * $pot W
neighbor $skin bin
compute pe all pe/atom
dump d all custom 1 $work/out.lmp id x y z fx fy fz c_pe
dump_modify d format float %.17g
thermo_style custom step pe press
run 0
EOF

atoms=$((2 * n * n * n))
# Debian's LAMMPS has no OPENMP package: more than one core means MPI ranks
launch=""; [ "$threads" -gt 1 ] && launch="mpirun --allow-run-as-root --oversubscribe -np $threads"
echo "whole process, $atoms atoms, $threads thread(s), LAMMPS skin $skin Å; $(nproc) cores; $(date -u +%FT%TZ)"
q=(); l=(); qm=(); lm=()
for r in $(seq 1 "$reps"); do
  /usr/bin/time -f "%e %M" -o "$work/t" env DOTNET_gcServer=0 DOTNET_PROCESSOR_COUNT="$threads" $qmmm eval --model "setfl:$pot" --threads "$threads" "$work/in.xyz" -o "$work/out.xyz" >/dev/null
  read -r t m < "$work/t"; q+=("$t"); qm+=("$m")
  /usr/bin/time -f "%e %M" -o "$work/t" env OMP_NUM_THREADS=1 $launch lmp -nocite -log none -echo none -in "$work/in.lmp" >/dev/null
  read -r t m < "$work/t"; l+=("$t"); lm+=("$m")
  echo "run $r: qmmm ${q[-1]} s ${qm[-1]} kB | lammps ${l[-1]} s ${lm[-1]} kB | load $(cut -d' ' -f1 /proc/loadavg)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mq=$(median "${q[@]}"); ml=$(median "${l[@]}"); mqm=$(median "${qm[@]}"); mlm=$(median "${lm[@]}")
echo "median qmmm $mq s, $((mqm / 1024)) MB; lammps $ml s, $((mlm / 1024)) MB"
python3 -c "print('LAMMPS-time / Qmmm-time %.2f; Qmmm / LAMMPS peak memory %.2f' % ($ml / $mq, $mqm / $mlm))"
ls -l "$work/out.xyz" "$work/out.lmp" | awk '{print $5, $9}'
