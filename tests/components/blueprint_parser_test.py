"""The blueprint through Cloudify's own DSL parser and local workflow mode
(cloudify-common from PyPI, in .deps/cloudify), no machine touched: each
example inputs file makes a deployment with the outputs it promises, and each
kind of bad input is refused when the deployment is made (init_env), with the
parser's message, before any operation could run.

    usage: .deps/cloudify/bin/python blueprint_parser_test.py SOURCE_DIR
"""
import os
import sys

import yaml

src = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.join(src, 'scripts', 'lab.d', 'blueprint'))
import deploy  # noqa: E402

failures = []


def inputs_of(name):
    with open(os.path.join(src, 'blueprints', 'inputs', name)) as f:
        return yaml.safe_load(f)


for name in sorted(os.listdir(os.path.join(src, 'blueprints', 'inputs'))):
    values = inputs_of(name)
    try:
        env = deploy.init(None, values)
    except Exception as e:
        failures.append(f'{name}: refused: {e}')
        continue
    outputs = env.outputs()
    if outputs.get('manager_ip') != values['floating_ip'] or \
            outputs.get('manager_url') != f"http://{values['floating_ip']}/":
        failures.append(f'{name}: outputs {outputs}')
    roles = {n['id']: n['properties'].get('role') for n in env.plan['nodes'] if n['id'].startswith('node_')}
    expected = {'node_1': 'manager', 'node_2': 'manager', 'node_3': values['third_machine_role']}
    if roles != expected:
        failures.append(f'{name}: roles {roles}, expected {expected}')
    print(f'ok: {name}: parsed, outputs {outputs}, roles {roles}')

good = inputs_of('three-managers.yaml')
BAD = [
    ('an address that is not one', dict(good, machine_2_address='192.0.2.300'),
     'Value 192.0.2.300 of input machine_2_address violates constraint pattern'),
    ('a db_backend that does not exist', dict(good, db_backend='mysql'),
     'Value mysql of input db_backend violates constraint valid_values'),
    ('a durability rule that does not exist', dict(good, durability='mostly'),
     'Value mostly of input durability violates constraint valid_values'),
    ('two machines, no witness', {k: v for k, v in good.items() if not k.startswith('machine_3_')},
     "Required inputs ['machine_3_name', 'machine_3_address'] were not specified"),
    ('a node name that is a command', dict(good, machine_1_name='n1;reboot'),
     'of input machine_1_name violates constraint pattern'),
    ('a floating IP that is not one', dict(good, floating_ip='192.0.2'),
     'of input floating_ip violates constraint pattern'),
    ('an uninstall data policy that does not exist', dict(good, uninstall_data='purge'),
     'Value purge of input uninstall_data violates constraint valid_values'),
    ('an input the blueprint does not declare', dict(good, machine_4_address='192.0.2.14'),
     'machine_4_address'),
]
for what, values, message in BAD:
    try:
        deploy.init(None, values)
        failures.append(f'{what}: accepted')
    except Exception as e:
        if message not in str(e):
            failures.append(f'{what}: refused, but with {type(e).__name__}: {e}')
        else:
            print(f'ok: {what}: refused ({type(e).__name__}: {str(e)[:100]})')

for f in failures:
    print('FAIL:', f)
sys.exit(1 if failures else 0)
