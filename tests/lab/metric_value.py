#!/usr/bin/python3
"""The sum of the samples NAME{LABELS...} in a Prometheus text exposition on
stdin, read with the Prometheus project's own parser (Debian's
python3-prometheus-client), so a /metrics it cannot parse fails the check.

    curl -s http://127.0.0.1:8801/metrics | metric_value.py ha_supervisor_member_up node=n2

Exit 0 and the sum; 1 when no sample matches; 2 when the text does not parse.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families

name = sys.argv[1]
want = dict(arg.split('=', 1) for arg in sys.argv[2:])
try:
    families = list(text_string_to_metric_families(sys.stdin.read()))
except Exception as e:  # the parser's own error: the exposition is not valid
    print(f'not a valid exposition: {e}', file=sys.stderr)
    sys.exit(2)
values = [s.value for f in families for s in f.samples
          if s.name == name and all(s.labels.get(k) == v for k, v in want.items())]
if not values:
    print(f'no sample {name}{want}', file=sys.stderr)
    sys.exit(1)
print(f'{sum(values):g}')
