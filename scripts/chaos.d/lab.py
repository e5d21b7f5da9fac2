"""The lab as the fault suite sees it: its nodes, who has which role now, and
commands run in a node or in a node's network alone. Everything goes through
scripts/lab, except what must outlive a node's crash (the clients, which run
in a node's network namespace only, as db-failover-run's writer does)."""
import json
import os
import subprocess

NS_PREFIX = "hal-"  # scripts/lab's network namespaces
VIP = "198.18.0.100"


class Lab:
    def __init__(self, top):
        self.top = top
        self.script = os.path.join(top, "scripts", "lab")
        self.state = os.path.join(top, ".run", "lab")

    def is_up(self):
        return os.path.exists(os.path.join(self.state, "nodes"))

    def managers(self):
        with open(os.path.join(self.state, "nodes")) as f:
            return [n.strip() for n in f if n.strip().startswith("n")]

    @staticmethod
    def address(node):
        return "198.18.0.1" + node[1:]

    def run(self, *args, timeout=600):
        """scripts/lab ARGS; its output returned, an error raised when it fails."""
        p = subprocess.run([self.script, *args], capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"lab {' '.join(args)}: exit {p.returncode}: {(p.stderr or p.stdout).strip()[-400:]}")
        return p.stdout

    def exec(self, node, *cmd, timeout=20, stdin=None):
        """(exit status, stdout) of CMD in NODE; (-1, "") when it cannot run there."""
        try:
            p = subprocess.run([self.script, "exec", node, *cmd], capture_output=True, text=True,
                               timeout=timeout, input=stdin)
            return p.returncode, p.stdout
        except subprocess.TimeoutExpired:
            return -1, ""

    def net_command(self, node, *cmd):
        """CMD in NODE's network namespace only: it survives the node's crash."""
        return ["ip", "netns", "exec", NS_PREFIX + node, *cmd]

    def status(self, nodes=None):
        """hactl status --json from the first node that answers."""
        for n in nodes or self.managers():
            rc, out = self.exec(n, "hactl", "status", "--json", timeout=10)
            if rc == 0:
                try:
                    return n, json.loads(out)
                except ValueError:
                    continue
        return None, None

    def roles(self):
        """{"primary", "holder", "leader", "replica": node or ""} as a live node sees them now."""
        asked, status = self.status()
        if status is None:
            return {}
        by_address = {m["address"]: m["name"] for m in status["members"]}
        roles = {"primary": status["database"].get("primary", ""),
                 "holder": next((m["name"] for m in status["members"] if m["holds_vip"]), "")}
        rc, out = self.exec(asked, "curl", "-s", "--max-time", "2", "--cacert", "/etc/ssl/ha-consul-ca.pem",
                               "https://127.0.0.1:8501/v1/status/leader")
        roles["leader"] = by_address.get(out.strip().strip('"').rsplit(":", 1)[0], "") if rc == 0 else ""
        others = [n for n in self.managers() if n not in (roles["primary"], roles["holder"])]
        roles["replica"] = others[0] if others else ""
        return roles

    def link_and_vip(self, node):
        """(link up, floating IP configured) of NODE's interface, from the host."""
        p = subprocess.run(["ip", "-n", NS_PREFIX + node, "-br", "addr", "show", "dev", "eth0"],
                           capture_output=True, text=True, timeout=5)
        words = p.stdout.split()
        return (len(words) > 1 and words[1] == "UP", f"{VIP}/24" in words)
