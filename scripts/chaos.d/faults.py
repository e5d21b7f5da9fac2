"""Injecting and healing each fault kind of schedule.KINDS in the lab.
inject(kind) returns (target, heal) where heal() undoes the fault, or raises
Skip with the reason the fault cannot run here."""
import subprocess
import threading

from lab import NS_PREFIX

UNITS = {"kill-syncthing": "ha-syncthing", "kill-nginx": "ha-nginx", "kill-gate": "ha-upload-gate",
         "kill-rest": "rest-standin", "kill-keepalived": "keepalived", "kill-supervisor": "ha-supervisor",
         "kill-patroni": "ha-patroni"}
DATA_FS = "/var/lib/ha-patroni"          # the database's own filesystem in the lab
PGDATA = DATA_FS + "/data"
FILES_FS = "/opt/manager"                # the uploaded files' (resources/ is a folder in it)
BALLAST = "lab-ballast"                  # what disk-full and files-full write there, removed at the heal


def _fill_command(mount):
    """Fills the filesystem at mount: fallocate all but 4 MiB at once, then
    write until the kernel says no space (metadata takes a little of what df
    counted), and print what is left. The ballast sits beside what the node
    keeps there, never in the replicated folder (syncthing would copy it)."""
    ballast = f"{mount}/{BALLAST}"
    return (f'avail=$(df --output=avail -B1 {mount} | tail -1) && '
            f'fallocate -l $((avail > 4194304 ? avail - 4194304 : 0)) {ballast}.1; '
            f'head -c 67108864 /dev/zero > {ballast}.2 2>/dev/null; sync -f {mount}; '
            f'df --output=avail -B1 {mount} | tail -1')


class Skip(Exception):
    pass


def _ip(*args):
    p = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if p.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {p.stderr.strip()}")


def _all(fn, nodes):
    """fn(node) for every node at once (a power cut hits them together)."""
    errors = []

    def one(n):
        try:
            fn(n)
        except Exception as e:  # reported after all ran
            errors.append(f"{n}: {e}")
    threads = [threading.Thread(target=one, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors))


class Faults:
    def __init__(self, lab):
        self.lab = lab

    def _node(self, roles, role):
        node = roles.get(role)
        if not node:
            raise Skip(f"no node is {role} now ({roles})")
        return node

    def _other(self, roles, node):
        """The IP holder when it is another node, else a node with no role."""
        if roles.get("holder") and roles["holder"] != node:
            return roles["holder"]
        return next(n for n in self.lab.managers() if n != node)

    def _systemctl_kill(self, node, unit, signal):
        rc, _ = self.lab.exec(node, "systemctl", "kill", "-s", signal, unit)
        if rc != 0:
            raise RuntimeError(f"systemctl kill -s {signal} {unit} on {node}: exit {rc}")

    def _require_up(self, node):
        """Skip a fault on a node an overlapped fault has just crashed."""
        if self.lab.exec(node, "true")[0] != 0:
            raise Skip(f"{node} is down")

    def _fill_fs(self, node, mount):
        """disk-full, files-full on node: the filesystem at mount left with
        (almost) no free block. Returns the heal, which removes what was written."""
        self._require_up(node)
        rc, _ = self.lab.exec(node, "mountpoint", "-q", mount)
        if rc != 0:
            raise Skip(f"{mount} on {node} is not a filesystem of its own (a lab provisioned by the "
                       "blueprint has none): filling it would fill the host's disk")
        rc, out = self.lab.exec(node, "sh", "-c", _fill_command(mount))
        left = out.split()[-1] if out.split() else ""
        ballast = f"{mount}/{BALLAST}"
        heal = lambda: self.lab.exec(node, "rm", "-f", ballast + ".1", ballast + ".2")
        if rc != 0 or not left.isdigit() or int(left) > 1048576:
            heal()
            raise RuntimeError(f"filling {mount} on {node} left {left or '?'} bytes free (exit {rc})")
        return heal

    def inject(self, kind, roles):
        lab = self.lab
        if kind.startswith("crash-"):
            node = self._node(roles, kind.split("-", 1)[1])
            self._require_up(node)
            lab.run("crash", node)
            return node, lambda: lab.run("restart", node)
        if kind.startswith("partition-"):
            node = self._node(roles, kind.split("-", 1)[1])
            lab.run("partition", node)
            return node, lambda: lab.run("heal", node)
        if kind in ("cut-pair", "cut-oneway"):
            a = self._node(roles, "primary")
            b = self._other(roles, a)
            sides = [(a, b), (b, a)] if kind == "cut-pair" else [(a, b)]
            for src, dst in sides:
                _ip("-n", NS_PREFIX + src, "route", "add", "blackhole", lab.address(dst) + "/32")

            def heal():
                for src, dst in sides:
                    _ip("-n", NS_PREFIX + src, "route", "del", "blackhole", lab.address(dst) + "/32")
            return f"{a},{b}", heal
        if kind == "kill-consul-leader":
            node = self._node(roles, "leader")
            self._systemctl_kill(node, "consul", "SIGKILL")
            return node, lambda: lab.exec(node, "systemctl", "start", "consul")
        if kind == "kill-postgres":
            node = self._node(roles, "primary")
            rc, out = lab.exec(node, "head", "-1", PGDATA + "/postmaster.pid")
            if rc != 0 or not out.strip().isdigit():
                raise RuntimeError(f"no postmaster.pid on {node}")
            rc, _ = lab.exec(node, "kill", "-KILL", out.strip())
            if rc != 0:
                raise RuntimeError(f"kill -KILL {out.strip()} on {node}: exit {rc}")
            return node, lambda: None  # Patroni starts it again
        if kind in UNITS:
            node = self._node(roles, "primary" if kind == "kill-patroni" else "holder")
            self._systemctl_kill(node, UNITS[kind], "SIGKILL")
            return node, lambda: lab.exec(node, "systemctl", "start", UNITS[kind])
        if kind == "hang-supervisor":
            node = self._node(roles, "holder")
            self._systemctl_kill(node, "ha-supervisor", "SIGSTOP")
            return node, lambda: self._systemctl_kill(node, "ha-supervisor", "SIGCONT")
        if kind == "cold-start-all":
            nodes = lab.managers()
            _all(lambda n: lab.run("crash", n), nodes)
            return ",".join(nodes), lambda: _all(lambda n: lab.run("restart", n), nodes)
        if kind == "join-leave":
            if "n4" in lab.managers():
                raise Skip("n4 is already a member")
            lab.run("join", "n4")
            return "n4", lambda: lab.run("leave", "n4")
        if kind == "netem":
            node = self._node(roles, "primary")
            p = subprocess.run(["ip", "netns", "exec", NS_PREFIX + node, "tc", "qdisc", "add", "dev", "eth0", "root",
                                "netem", "loss", "20%", "delay", "50ms"], capture_output=True, text=True, timeout=10)
            if p.returncode != 0:
                raise Skip(f"this kernel has no netem qdisc (tc: {p.stderr.strip()})")
            return node, lambda: subprocess.run(["ip", "netns", "exec", NS_PREFIX + node, "tc", "qdisc", "del",
                                                 "dev", "eth0", "root"], capture_output=True, timeout=10)
        if kind == "disk-full":
            node = self._node(roles, "primary")
            return node, self._fill_fs(node, DATA_FS)
        if kind == "files-full":
            node = self._node(roles, "holder")
            return node, self._fill_fs(node, FILES_FS)
        raise ValueError(f"unknown fault kind {kind}")
