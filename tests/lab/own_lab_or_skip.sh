# Sourced by the lab's tests ($top set): each brings up a lab of its own, so it
# skips, exit 0 with the reason, without root or beside a lab already up.
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the lab needs root (network namespaces, mounts, cgroups)"
  exit 0
fi
if [ -e "$top/.run/lab/nodes" ]; then
  echo "SKIP: a lab is already up in this checkout; not touching it (run scripts/lab down)"
  exit 0
fi
