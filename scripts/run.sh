#!/usr/bin/env bash
# The main job (for now): build the qmmm command, generate a perturbed bcc W configuration and a quasi-2D vacancy
# domain, evaluate both with the Marinica EAM4 model, and write the results under out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dotnet build src/Qmmm.Cli -c Release -nologo -v q
qmmm() { dotnet src/Qmmm.Cli/bin/Release/net10.0/qmmm.dll "$@"; }
mkdir -p out
qmmm lattice --element W --lattice bcc --a 3.1434 --repeat 4x4x4 --perturb 0.05 --seed 1 -o out/w-bulk.xyz
qmmm eval --model eam-w-marinica out/w-bulk.xyz -o out/w-bulk-eval.xyz
qmmm lattice --element W --lattice bcc --a 3.1434 --radius 15 --quasi2d --vacancy -o out/w-vacancy-q2d.xyz
qmmm eval --model eam-w-marinica out/w-vacancy-q2d.xyz --json > out/w-vacancy-q2d.json
echo "results in out/: w-bulk-eval.xyz (energies, forces, virial), w-vacancy-q2d.json"
