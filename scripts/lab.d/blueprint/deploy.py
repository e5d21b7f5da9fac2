"""Runs the project's Cloudify blueprint with Cloudify's own workflow engine.

cloudify-common's local workflow mode (`cloudify.workflows.local`) parses the
blueprint with Cloudify's DSL parser, checks the inputs against their
constraints, and runs the built-in install and uninstall workflows: lifecycle
order, relationships, intrinsic functions, runtime properties, outputs, as a
Cloudify manager's workflow does. Nothing here stands in for Cloudify but the
fabric plugin's transport (fabric_plugin/tasks.py, a test double).

  deploy.py check   --inputs FILE                   parse and check only
  deploy.py install --storage DIR [--inputs FILE] [--retries N]
  deploy.py uninstall --storage DIR
  deploy.py outputs --storage DIR

The deployment lives in --storage (a FileStorage): the first install creates
it from --inputs; a later install (after a failure, or again) and uninstall
use the stored one, as a manager's deployment would be. Run with the Python
of .deps/cloudify (scripts/setup installs cloudify-common there).
"""
import argparse
import json
import logging
import os
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
BLUEPRINT = os.path.join(TOP, 'blueprints', 'ha-manager-blueprint.yaml')
sys.path.insert(0, HERE)  # fabric_plugin (the test double) and the resolver

from cloudify.workflows import local  # noqa: E402
from offline_resolver import OfflineResolver  # noqa: E402

NAME = 'ha-manager'
# The cloudify.nodes.Compute type's agent operations (cloudify_agent): a
# manager runs them only to install an agent, and the blueprint's machines say
# install_method: none. Not importable here; the engine never calls them.
AGENT_MODULES = ['cloudify_agent.installer.operations', 'cloudify_agent.operations']


def load_inputs(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def init(storage_dir, inputs):
    storage = local.FileStorage(storage_dir) if storage_dir else local.InMemoryStorage()
    return local.init_env(BLUEPRINT, name=NAME, inputs=inputs, storage=storage,
                          resolver=OfflineResolver(), ignored_modules=AGENT_MODULES)


def stored(storage_dir):
    if not os.path.isdir(os.path.join(storage_dir, 'deployments', NAME)):
        return None
    return local.load_env(NAME, local.FileStorage(storage_dir))


def run(env, workflow, retries):
    t0 = time.monotonic()
    try:
        env.execute(workflow, task_retries=retries, task_retry_interval=2, task_thread_pool_size=8)
    except Exception as e:  # the engine's own error: the failed task and why
        print(f'deploy: {workflow} failed after {time.monotonic() - t0:.1f} s: {e}', file=sys.stderr)
        return 1
    print(f'deploy: {workflow} done in {time.monotonic() - t0:.1f} s')
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['check', 'install', 'uninstall', 'outputs', 'instances'])
    parser.add_argument('--storage')
    parser.add_argument('--inputs')
    parser.add_argument('--retries', type=int, default=0,
                        help="a failed operation's retries (a manager's default is 60)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format='%(message)s')

    if args.command == 'check':
        init(None, load_inputs(args.inputs))
        print('deploy: the blueprint parses and the inputs meet their constraints')
        return 0
    if not args.storage:
        parser.error('--storage DIR is needed')
    env = stored(args.storage)
    if args.command == 'install' and env is None:
        if not args.inputs:
            parser.error('the first install needs --inputs')
        env = init(args.storage, load_inputs(args.inputs))  # fails here on a bad input
    if env is None:
        print(f'deploy: no deployment in {args.storage}', file=sys.stderr)
        return 1
    if args.command == 'outputs':
        print(json.dumps(env.outputs(), indent=2, sort_keys=True))
        return 0
    if args.command == 'instances':
        for instance in env.storage.get_node_instances():
            print(instance.id, instance.state)
        return 0
    return run(env, args.command, args.retries)


if __name__ == '__main__':
    sys.exit(main())
