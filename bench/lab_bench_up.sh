# Sourced by the lab's benchmarks after their own arguments are read: needs
# root, refuses a lab already up in this checkout (never touches one it did
# not start), brings one up and takes it down when the benchmark exits.
# Expects $top (the checkout) and $lab (scripts/lab); $lab_nodes (optional):
# 2 for two managers and the witness, else 3 managers.
[ "$(id -u)" -eq 0 ] || { echo "needs root (the lab): sudo $0" >&2; exit 1; }
[ -e "$top/.run/lab/nodes" ] && { echo "a lab is already up in this checkout: run scripts/lab down first" >&2; exit 1; }
trap '"$lab" down >/dev/null 2>&1' EXIT
"$lab" up --nodes "${lab_nodes:-3}" >/dev/null 2>&1 || { echo "lab up failed" >&2; exit 1; }
