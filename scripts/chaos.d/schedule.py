"""The fault schedule: which faults, in what order, held how long. Pure: the
same seed gives the same schedule (a fault names a role, "primary" or
"holder", which the runner resolves to a node when the fault comes, so a
replay hits the same roles even when they sit on other nodes).
"""
import random
from dataclasses import dataclass

# Every fault kind the suite knows, what it does, and where it strikes.
# role: the node it hits, resolved at injection time:
#   primary  the database's primary        holder  the floating IP's holder
#   replica  a manager that is neither     leader  Consul's Raft leader
#   all      every manager at once         pair    the primary and one other node
KINDS = {
    "crash-primary": "power cut of the primary's node; cold boot at the heal",
    "crash-holder": "power cut of the floating IP holder's node; cold boot at the heal",
    "crash-replica": "power cut of a node that is neither primary nor IP holder; cold boot at the heal",
    "partition-primary": "the primary's node cut off (link down); link up at the heal",
    "partition-holder": "the IP holder's node cut off (link down); link up at the heal",
    "cut-pair": "the primary's node and one other node lose each other, both still reach the third",
    "cut-oneway": "the primary's node cannot send to one other node, which still reaches it (asymmetric)",
    "kill-consul-leader": "Consul on the Raft leader SIGKILLed (systemd restarts it)",
    "kill-postgres": "PostgreSQL's postmaster on the primary SIGKILLed (Patroni restarts it)",
    "kill-patroni": "Patroni on the primary's node SIGKILLed, PostgreSQL with it (systemd restarts it)",
    "kill-syncthing": "syncthing on the IP holder SIGKILLed",
    "kill-nginx": "nginx on the IP holder SIGKILLed",
    "kill-gate": "the upload gate on the IP holder SIGKILLed",
    "kill-rest": "the REST service on the IP holder SIGKILLed",
    "kill-keepalived": "keepalived on the IP holder SIGKILLed",
    "kill-supervisor": "the supervisor on the IP holder SIGKILLed",
    "hang-supervisor": "the supervisor on the IP holder SIGSTOPped (hung); SIGCONT at the heal",
    "cold-start-all": "power cut of every manager at once; all booted together at the heal",
    "join-leave": "a fourth manager joins under load; it leaves for good at the heal",
    "netem": "20% loss and 50 ms delay on the primary's link (needs the kernel's sch_netem)",
    "disk-full": "the primary's data filesystem full",
    "files-full": "the IP holder's uploaded files' filesystem full (where every upload lands)",
}

# What a schedule draws from when --faults is not given: every kind that runs
# here in seconds (join-leave takes a minute each way: asked for by name).
DEFAULT_KINDS = [k for k in KINDS if k not in ("join-leave",)]


# Kinds never overlapped with another: every manager is down (cold-start-all),
# or the lab's membership changes for a minute (join-leave).
ALONE = ("cold-start-all", "join-leave")

# An overlapped step's name: "FIRST+SECOND".
OVERLAP_SEP = "+"


@dataclass(frozen=True)
class Step:
    number: int      # 1, 2, ...
    kind: str
    hold_s: float    # from the injection to the heal
    pause_s: float   # after the cluster settled, before the next fault
    second: str = ""         # a second fault injected while the first holds ("" none)
    second_after_s: float = 0.0  # from the first injection to the second's

    @property
    def name(self):
        return self.kind + OVERLAP_SEP + self.second if self.second else self.kind


def parse_kinds(text):
    """--faults "a,b": the kinds, in the order given; ValueError names the unknown ones."""
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown fault kind(s): {', '.join(unknown)}; known: {', '.join(KINDS)}")
    if not kinds:
        raise ValueError("--faults names no fault kind")
    return kinds


def steps(seed, kinds, hold_s=(5.0, 15.0), pause_s=(2.0, 6.0), overlap=0.0):
    """The schedule, endless: the runner takes steps while its time lasts.
    Each round draws every kind once, in a seeded order, so a short run still
    sees a spread of kinds rather than one drawn three times. With overlap P
    (0 to 1), a step strikes a second fault of another kind with chance P,
    0-4 s after the first and while it holds; both are healed together. With
    overlap 0 no extra number is drawn: a seed's schedule stays what it was."""
    rng = random.Random(seed)
    number = 0
    partners = [k for k in kinds if k not in ALONE]
    while True:
        round_ = list(kinds)
        rng.shuffle(round_)
        for kind in round_:
            number += 1
            hold, pause = round(rng.uniform(*hold_s), 1), round(rng.uniform(*pause_s), 1)
            second, after = "", 0.0
            if overlap > 0 and kind not in ALONE:
                others = [k for k in partners if k != kind]
                if others and rng.random() < overlap:
                    second, after = rng.choice(others), round(rng.uniform(0.0, min(4.0, hold - 1.0)), 1)
            yield Step(number, kind, hold, pause, second, after)


def step_bound_ms(name, bounds_ms):
    """The recovery bound of a step named "KIND" or "FIRST+SECOND": an
    overlapped pair's is the sum of both (the second may strike the cluster
    while it recovers from the first); None when a kind has none."""
    parts = [bounds_ms.get(k) for k in name.split(OVERLAP_SEP)]
    return None if any(b is None for b in parts) else sum(parts)
