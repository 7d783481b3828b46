#!/usr/bin/env bash
# Runs every Qmmm test (F# Expecto suite + C# facade tests) and closes with one plain line "N passed, N failed".
# Exit code is non-zero on any failure. Set QMMM_SLOW=1 to include the slow checks.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
dotnet build Qmmm.slnx -c Release -nologo -v q || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp -d)
# Formatting is a check like any other: Fantomas for F# (STYLE 21).
fmt_failed=0
if ! dotnet fantomas --check src tests bench >"$log/fmt.txt" 2>&1; then
  fmt_failed=1
  echo "format check FAILED: run 'dotnet fantomas src tests bench'"; cat "$log/fmt.txt" | head -20
fi
# ... and `dotnet format whitespace` for the C# projects.
for proj in src/Qmmm.Host/Qmmm.Host.csproj src/Qmmm.Cli/Qmmm.Cli.csproj tests/Qmmm.Host.Tests/Qmmm.Host.Tests.csproj; do
  if ! dotnet format whitespace "$proj" --verify-no-changes >"$log/cfmt.txt" 2>&1; then
    fmt_failed=1
    echo "format check FAILED for $proj: run 'dotnet format whitespace $proj'"; head -20 "$log/cfmt.txt"
  fi
done
dotnet run --project tests/Qmmm.Numerics.Tests -c Release --no-build -- --sequenced 2>&1 | tee "$log/fs.txt"
fs_rc=${PIPESTATUS[0]}
dotnet test tests/Qmmm.Host.Tests -c Release --no-build --nologo 2>&1 | tee "$log/cs.txt"
cs_rc=${PIPESTATUS[0]}

read -r fp ff < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/fs.txt" | tail -1 | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
cp=$(grep -oE 'Passed: +[0-9]+' "$log/cs.txt" | tail -1 | grep -oE '[0-9]+')
cf=$(grep -oE 'Failed: +[0-9]+' "$log/cs.txt" | tail -1 | grep -oE '[0-9]+')
fp=${fp:-0}; ff=${ff:-0}; cp=${cp:-0}; cf=${cf:-0}
failed=$((ff + cf + fmt_failed))
[ "$fs_rc" -ne 0 ] && [ "$ff" -eq 0 ] && failed=$((failed + 1))
[ "$cs_rc" -ne 0 ] && [ "$cf" -eq 0 ] && failed=$((failed + 1))
echo
echo "F# suite: $fp passed, $ff failed; C# suite: $cp passed, $cf failed"
[ "$fmt_failed" -eq 0 ] && fp=$((fp + 1))  # the format check counts as one passed check
echo "$((fp + cp)) passed, $failed failed"
[ "$failed" -eq 0 ]
