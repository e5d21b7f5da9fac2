#!/usr/bin/env python3
"""The deployment files against the repository they deploy: one provisioning
order, written once (scripts/provision-node), run by every deployment.

VirtualBox does not run here; Cloudify's engine does, in the lab
(tests/lab/blueprint_test.sh runs the blueprint's install and uninstall) and
its parser in blueprint_parser_test.py. This checks what neither does:

  one order    scripts/provision-node installs the components; every caller
               runs it (scripts/lab's provision_node, a Vagrant provisioner,
               each machine of the blueprint) and nothing else under scripts/,
               vagrant/ or blueprints/ runs a components/*/install.sh; every
               option provision-node gives a component is one that install.sh
               accepts, and every component with an install.sh is installed
               on a manager (but the ones in NOT_PROVISIONED).
  runs         each caller, run against stand-ins for the install scripts with
               the real scripts/provision-node: the lab's provision_node (its
               functions, with in_node running the command here) for a manager
               and a witness, each VM of the Vagrantfile (its provisioners
               evaluated by Ruby with a stand-in for Vagrant: SKIP without
               ruby) and each machine of the blueprint for each example inputs
               file. For each: a manager gets consul first and ha-supervisor
               last, the same sequence in every caller; a witness Consul only;
               Consul joins every other server and expects them all; the REST
               service's conninfo carries the secrets file's password and the
               caller's database hosts; the supervisor gets the floating IP on
               the right interface; the password is on no caller's command line
               and in no output; the lab keeps its per-step timings file and
               provision.log lines; a blueprint manager runs scripts/setup
               --build first, a witness does not.
  blueprints/  every YAML file is well formed (duplicate keys too); each
               blueprint's local imports exist, and what it takes from
               Cloudify's types.yaml and the fabric plugin is listed below;
               node templates name declared types, give only declared
               properties and every required one; relationships name declared
               types and node templates; every get_input names a declared
               input, every get_property a declared node and property;
               operations name a known plugin and lifecycle operation; every
               repository file a command names (components/, scripts/,
               templates/) exists, and every --option passed to an install.sh
               or to scripts/provision-node is one it accepts; output
               manager_ip is an input. Example inputs files: no key given
               twice (their declarations and constraints are checked by
               Cloudify's parser, blueprint_parser_test.py); the commands are
               valid shell as the fabric plugin sends them.
  vagrant/     every provisioner script exists and takes the options the
               Vagrantfile passes (scripts/provision-node those of an inline
               provisioner that runs it); and `vagrant validate
               --ignore-provider` (SKIP when vagrant is not installed), kept
               off the network, in place and on a copy with a provisioner
               script missing (it must fail).

Then it proves it can fail: it breaks copies of the files in a temporary
directory, one way at a time, and expects each break to be reported.

    usage: deploy_files_test.py SOURCE_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

# What the blueprints take from imports that cannot be fetched here: only
# what they use. Anything else from these imports is reported as unknown, so
# this list stays short and honest (Cloudify 6.3's types.yaml, the fabric
# plugin 2.x's plugin.yaml).
EXTERNAL_IMPORTS = {
    'cloudify/types/types.yaml': {
        'node_types': {
            'cloudify.nodes.Root': {},
            'cloudify.nodes.Compute': {
                'derived_from': 'cloudify.nodes.Root',
                'properties': {'ip': {'default': ''}, 'os_family': {'default': 'linux'},
                               'agent_config': {'type': 'cloudify.datatypes.AgentConfig', 'default': {}},
                               'install_agent': {'default': ''}, 'cloudify_agent': {'default': {}}},
            },
            'cloudify.nodes.SoftwareComponent': {'derived_from': 'cloudify.nodes.Root'},
        },
        'relationships': ['cloudify.relationships.depends_on', 'cloudify.relationships.connected_to',
                          'cloudify.relationships.contained_in'],
        'data_types': ['cloudify.datatypes.AgentConfig'],
    },
    'plugin:cloudify-fabric-plugin': {
        'plugins': {'fabric': ['fabric_plugin.tasks.run_commands', 'fabric_plugin.tasks.run_script',
                               'fabric_plugin.tasks.run_task', 'fabric_plugin.tasks.run_module_task']},
    },
}
PRIMITIVE_TYPES = {'string', 'integer', 'float', 'boolean', 'list', 'dict', 'regex', 'textarea'}
LIFECYCLE_OPERATIONS = ['precreate', 'create', 'configure', 'start', 'poststart',
                        'prestop', 'stop', 'delete', 'postdelete']
INSTALL_ORDER = ['create', 'configure', 'start']
FUNCTIONS = {'get_input', 'get_property', 'get_attribute', 'concat', 'get_secret', 'get_capability'}
# A file of the repository named in a command: components/..., scripts/...,
# templates/... (after a '/', a quote, '=' or at the start of a word).
REPO_PATH = re.compile(r'(?:^|(?<=[\s"\'=(/}]))((?:components|scripts|templates)/[A-Za-z0-9._/-]*[A-Za-z0-9_])')
# Input values reach root shell command lines unquoted.
SHELL_SAFE = re.compile(r'^[A-Za-z0-9._/:@,+-]*$')
PLACEHOLDER = '<FN>'
# The one provisioning script, and what it installs.
PROVISION = 'scripts/provision-node'
# Its counterpart, the blueprint's uninstall: the same components, reversed.
UNPROVISION = 'scripts/unprovision-node'
# A component's install script named anywhere, literally or through a variable.
INSTALL_SH = re.compile(r'components/([^/\s"\']+)/install\.sh')
# Components with an install.sh that no node gets yet, and why.
NOT_PROVISIONED = {'stolon': 'the supervisor does not drive stolon yet (components/stolon/README.md)'}


SKIPPED = set()  # what could not be run here, said once at the end


class Problems(list):
    def add(self, where, message):
        self.append(f'{where}: {message}')


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML as written: a key given twice is an error, not the last one wins."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'duplicate key {key!r}', key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path, problems, where):
    try:
        with open(path, encoding='utf-8') as f:
            return yaml.load(f, Loader=UniqueKeyLoader)
    except (OSError, yaml.YAMLError) as e:
        problems.add(where, f'not well-formed YAML: {e}'.replace('\n', ' '))
        return None


def function_of(value):
    """(name, args) when value is an intrinsic function call, else None."""
    if isinstance(value, dict) and len(value) == 1:
        name = next(iter(value))
        if name in FUNCTIONS:
            return name, value[name]
    return None


def walk(value, path=''):
    """Yields (path, value) for every function call and string, depth first."""
    fn = function_of(value)
    if fn:
        yield path, value
        args = fn[1] if isinstance(fn[1], list) else [fn[1]]
        for i, arg in enumerate(args):
            yield from walk(arg, f'{path}.{fn[0]}[{i}]')
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from walk(sub, f'{path}.{key}' if path else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from walk(sub, f'{path}[{i}]')
    elif isinstance(value, str):
        yield path, value


def text_of(value):
    """A command as text: concat pieces joined, other functions as a placeholder."""
    fn = function_of(value)
    if fn and fn[0] == 'concat' and isinstance(fn[1], list):
        return ''.join(text_of(piece) for piece in fn[1])
    if fn:
        return PLACEHOLDER
    return value if isinstance(value, str) else str(value)


def commands_in(value):
    """Every string or concat in value, as text (one per command)."""
    out = []
    fn = function_of(value)
    if fn and fn[0] == 'concat':
        out.append(text_of(value))
    elif fn:
        pass
    elif isinstance(value, dict):
        for sub in value.values():
            out += commands_in(sub)
    elif isinstance(value, list):
        for sub in value:
            out += commands_in(sub)
    elif isinstance(value, str):
        out.append(value)
    return out


# ---- the repository's scripts ---------------------------------------------------

_options_cache = {}


def script_options(path):
    """The --options a script's argument loop accepts (its `--opt)` case arms)."""
    if path not in _options_cache:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        options = set()
        for arm in re.findall(r'^\s*((?:--[a-z0-9-]+\s*\|?\s*)+)\)', text, re.M):
            options.update(o.strip() for o in arm.split('|'))
        _options_cache[path] = options
    return _options_cache[path]


def check_command_text(src, text, where, problems):
    """Repository files named in text exist (scripts executable); options accepted."""
    names = []
    for match in REPO_PATH.finditer(text):
        rel = match.group(1)
        full = os.path.join(src, rel)
        if not os.path.exists(full):
            problems.add(where, f'{rel} does not exist in the repository')
            continue
        if rel.startswith(('components/', 'scripts/')) and os.path.isfile(full) \
                and not rel.endswith(('.mustache', '.service', '.md', '.hpp', '.cpp', '.txt')) \
                and not os.access(full, os.X_OK):
            problems.add(where, f'{rel} is not executable')
        names.append(rel)
        if rel.endswith('/install.sh') or rel in (PROVISION, UNPROVISION):
            # Its arguments: up to the end of this command; quoted values dropped.
            rest = text[match.end():]
            rest = rest[1:] if rest[:1] in '"\'' else rest  # the quote around "$src/components/..."
            rest = re.sub(r'"[^"]*"|\'[^\']*\'', ' ', rest)
            rest = re.split(r'&&|\|\||;|\n|\|', rest)[0]
            accepted = script_options(full)
            for option in re.findall(r'(?:^|\s)(--[a-z][a-z0-9-]*)', rest):
                if option not in accepted:
                    problems.add(where, f'{rel} does not accept {option} (it takes: {" ".join(sorted(accepted))})')
    return names


def code_of(text):
    """Shell or Ruby or YAML without its comment lines, continuations joined."""
    text = re.sub(r'\\\n\s*', ' ', text)
    return '\n'.join(line for line in text.splitlines() if not line.lstrip().startswith('#'))


def read_text(src, rel, problems):
    try:
        with open(os.path.join(src, rel), encoding='utf-8') as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        problems.add(rel, f'cannot read it: {e}')
        return None


def shell_function(text, name):
    """A function's definition in a bash script: one line, or up to the '}' line."""
    found = re.search(rf'^{name}\(\) \{{(.*)$', text, re.M)
    if not found:
        return None
    if found.group(1).rstrip().endswith('}'):
        return found.group(0)
    end = re.compile(r'^\}$', re.M).search(text, found.end())
    return text[found.start():end.end()] if end else None


# ---- one order --------------------------------------------------------------------

def check_one_order(src, problems):
    """provision-node is the only thing that installs components; what it gives
    each component is accepted; every component but NOT_PROVISIONED is in it."""
    full = os.path.join(src, PROVISION)
    if not os.path.isfile(full):
        problems.add(PROVISION, 'does not exist: it is the one provisioning order')
        return
    if not os.access(full, os.X_OK):
        problems.add(PROVISION, 'is not executable')
    text = read_text(src, PROVISION, problems) or ''
    code = code_of(text)
    stepped = []
    for component, rest in re.findall(r'^\s*step ([a-z0-9-]+)(.*)$', code, re.M):
        stepped.append(component)
        script = f'components/{component}/install.sh'
        if not os.path.isfile(os.path.join(src, script)):
            problems.add(PROVISION, f'{script} does not exist')
            continue
        rest = re.sub(r'"[^"]*"|\'[^\']*\'', ' ', rest)
        for option in re.findall(r'(?:^|\s)(--[a-z][a-z0-9-]*)', rest):
            if option not in script_options(os.path.join(src, script)):
                problems.add(PROVISION, f'{script} does not accept {option}')
    if not stepped:
        problems.add(PROVISION, 'no "step COMPONENT OPTIONS..." line: what does it install?')
    # The blueprint's uninstall removes the same components, in the reverse order.
    un = read_text(src, UNPROVISION, problems) or ''
    listed = re.search(r'^components=\(([^)]*)\)', code_of(un), re.M)
    removed = listed.group(1).split() if listed else []
    if removed != list(reversed(stepped)):
        problems.add(UNPROVISION, f'removes {" ".join(removed) or "nothing"}: not {PROVISION}\'s components '
                                  f'reversed ({" ".join(reversed(stepped))})')
    for component in removed:
        if not os.access(os.path.join(src, 'components', component, 'uninstall.sh'), os.X_OK):
            problems.add(UNPROVISION, f'components/{component}/uninstall.sh does not exist or is not executable')
    # Nothing else installs a component.
    callers = []
    for part in ('scripts', 'vagrant', 'blueprints'):
        for d, _, files in os.walk(os.path.join(src, part)):
            callers += [os.path.relpath(os.path.join(d, f), src) for f in files
                        if not f.endswith('.md') and '/.run/' not in os.path.join(d, f) + '/'
                        and '/.vagrant/' not in os.path.join(d, f) + '/']
    for rel in sorted(callers):
        if rel == PROVISION:
            continue
        text = read_text(src, rel, problems)
        for component in sorted(set(INSTALL_SH.findall(code_of(text or '')))):
            problems.add(rel, f'runs components/{component}/install.sh itself: only {PROVISION} installs '
                              f'components (give it what this deployment needs instead)')
    # The lab's provision_node runs it, with options it takes.
    lab = read_text(src, 'scripts/lab', problems) or ''
    body = shell_function(lab, 'provision_node')
    if not body:
        problems.add('scripts/lab', 'no provision_node() function: where does the lab provision a node now?')
    elif PROVISION not in body:
        problems.add('scripts/lab', f'provision_node does not run {PROVISION}')
    else:
        check_command_text(src, code_of(body), 'scripts/lab (provision_node)', problems)


def check_provisioning(calls, output, expect, where, problems, sequences):
    """What one run of provision-node gave the components, against the facts the
    caller gave it: expect has role, address, servers, db_hosts, vip,
    vip_interface, consul_prefix (None: none), setup (scripts/setup --build first)."""
    sequence = [s.split('/')[1] for s, _ in calls if s.startswith('components/')]
    if expect['role'] == 'witness':
        if sequence != ['consul']:
            problems.add(where, f'a witness runs only consul; this one runs {" ".join(sequence) or "nothing"}')
    else:
        if not sequence or sequence[0] != 'consul' or sequence[-1] != 'ha-supervisor' \
                or len(set(sequence)) != len(sequence):
            problems.add(where, f'a manager installs consul first, ha-supervisor last, each component once; '
                                f'this one: {" ".join(sequence) or "nothing"}')
        sequences.setdefault(' '.join(sequence), []).append(where)
    setup = [args for s, args in calls if s == 'scripts/setup']
    if expect['setup'] and expect['role'] == 'manager':
        if not calls or calls[0] != ('scripts/setup', ['--build']):
            problems.add(where, f'a manager of the blueprint runs scripts/setup --build first; '
                                f'calls: {[s for s, _ in calls]}')
    elif setup:
        problems.add(where, f'runs scripts/setup {setup}: not asked to')
    if STAND_IN_SECRET in output:
        problems.add(where, 'the password appears in the output (a log): secrets never in a log')
    if STAND_IN_GOSSIP in output:
        problems.add(where, 'the gossip key appears in the output (a log): secrets never in a log')
    for script, args in calls:
        given = [a for i, a in enumerate(args) if i == 0 or not args[i - 1].endswith('-content')]
        if any(STAND_IN_GOSSIP in a for a in given if not a.endswith('-content')):
            problems.add(where, f'{script} gets the gossip key on its command line (give it a file)')
    servers = set(expect['servers'])
    for script, args in calls:
        if script == 'components/consul/install.sh':
            others = sorted(servers - {expect['address']})
            if option(args, '--bind') != [expect['address']] or sorted(option(args, '--join')) != others \
                    or option(args, '--expect') != [str(len(servers | {expect['address']}))]:
                problems.add(where, f'consul joins {option(args, "--join")} (expect {option(args, "--expect")}, '
                                    f'bind {option(args, "--bind")}); the other servers are {others}')
            if not any(f'consul_gossip={STAND_IN_GOSSIP}' in c for c in option(args, '--secrets-content')):
                problems.add(where, 'consul does not get the cluster\'s gossip key (--secrets with the '
                                    'cluster\'s secrets file): its gossip would be open to any host')
            if option(args, '--consul-prefix') != ([expect['consul_prefix']] if expect['consul_prefix'] else []):
                problems.add(where, f'consul gets --consul-prefix {option(args, "--consul-prefix")}, '
                                    f'not {expect["consul_prefix"]}')
        elif script == 'components/rest-service/install.sh':
            given = [a for i, a in enumerate(args) if i == 0 or args[i - 1] != '--db-file-content']
            if any(STAND_IN_SECRET in a for a in given if a != '--db-file-content'):
                problems.add(where, 'the REST service\'s install gets the password on its command line '
                                    '(give it --db-file)')
            db = (option(args, '--db-file-content') or [''])[0]
            if f'password={STAND_IN_SECRET} ' not in db:
                problems.add(where, f'the REST service\'s conninfo lacks the secrets file\'s password: '
                                    f'{db.replace(STAND_IN_SECRET, "<secret>")!r}')
            if f'host={",".join(expect["db_hosts"])} ' not in db:
                problems.add(where, f'the REST service\'s conninfo does not list the hosts '
                                    f'{",".join(expect["db_hosts"])}: {db.replace(STAND_IN_SECRET, "<secret>")!r}')
        elif script == 'components/ha-supervisor/install.sh':
            if option(args, '--vip') != [expect['vip']] or option(args, '--vip-interface') != [expect['vip_interface']]:
                problems.add(where, f'the supervisor gets --vip {option(args, "--vip")} on '
                                    f'{option(args, "--vip-interface")}, not {expect["vip"]} on {expect["vip_interface"]}')


def check_complete(src, sequences, problems):
    """Every caller's managers get the same components; every component is in it."""
    if len(sequences) > 1:
        problems.add('provisioning', 'the callers\' managers get different components: ' +
                     '; '.join(f'{seq} ({", ".join(where)})' for seq, where in sequences.items()))
    components = sorted(c for c in os.listdir(os.path.join(src, 'components'))
                        if os.path.isfile(os.path.join(src, 'components', c, 'install.sh')))
    for seq in sequences:
        for c in components:
            if c not in seq.split() and c not in NOT_PROVISIONED:
                problems.add(PROVISION, f'{c}: never installed on a manager (components/{c}/install.sh; '
                                        f'add it to NOT_PROVISIONED with the reason if that is meant)')


# ---- blueprints -----------------------------------------------------------------

class Blueprint:
    """A blueprint with its imports merged: what the checks look things up in."""

    def __init__(self, src, path, doc):
        self.src = src
        self.path = path
        self.dir = os.path.dirname(path)
        self.doc = doc
        self.node_types = {}
        self.type_files = {}  # node type -> the file declaring it (local types only)
        self.relationships = set()
        self.data_types = set()
        self.plugins = {}  # name -> its known operations, or None: any
        self.inputs = doc.get('inputs') or {}
        self.node_templates = doc.get('node_templates') or {}

    def where(self, path):
        return os.path.relpath(path, self.src)

    def type_chain(self, name):
        chain = []
        while name in self.node_types and name not in chain:
            chain.append(name)
            name = self.node_types[name].get('derived_from')
        return chain

    def properties_of(self, type_name):
        props = {}
        for t in reversed(self.type_chain(type_name)):
            props.update(self.node_types[t].get('properties') or {})
        return props


def declare(bp, path, doc, docs, problems, seen):
    """What doc imports (recursively), then what it declares itself."""
    for imported in doc.get('imports') or []:
        if imported in EXTERNAL_IMPORTS:
            ext = EXTERNAL_IMPORTS[imported]
            bp.node_types.update(ext.get('node_types', {}))
            bp.relationships.update(ext.get('relationships', []))
            bp.data_types.update(ext.get('data_types', []))
            bp.plugins.update({k: set(v) for k, v in ext.get('plugins', {}).items()})
            continue
        if re.match(r'^[a-z]+:', imported) or imported.startswith('cloudify/'):
            problems.add(bp.where(path), f'import {imported}: not one this test knows what it provides '
                                         f'(add it to EXTERNAL_IMPORTS)')
            continue
        full = os.path.normpath(os.path.join(os.path.dirname(path), imported))
        if not os.path.isfile(full):
            problems.add(bp.where(path), f'import {imported} does not exist')
            continue
        if full in seen:
            continue
        seen.add(full)
        sub = docs.get(full)
        if not isinstance(sub, dict):
            continue  # reported when it was loaded
        version = sub.get('tosca_definitions_version')
        if version and version != bp.doc.get('tosca_definitions_version'):
            problems.add(bp.where(full), f"tosca_definitions_version {version} differs from the blueprint's")
        declare(bp, full, sub, docs, problems, seen)
    for name, body in (doc.get('node_types') or {}).items():
        bp.node_types[name] = body or {}
        bp.type_files[name] = path
    bp.relationships.update((doc.get('relationships') or {}).keys())
    bp.data_types.update((doc.get('data_types') or {}).keys())
    bp.plugins.update({k: None for k in (doc.get('plugins') or {})})


def check_functions(bp, value, where, self_type, problems):
    """get_input names a declared input; get_property a declared node and property."""
    for path, item in walk(value):
        fn = function_of(item)
        if not fn:
            continue
        name, args = fn
        at = f'{where}.{path}' if path else where
        if name == 'get_input':
            first = args[0] if isinstance(args, list) and args else args
            if isinstance(first, str) and first not in bp.inputs:
                problems.add(at, f"get_input names undeclared input '{first}'")
        elif name in ('get_property', 'get_attribute'):
            if not isinstance(args, list) or len(args) < 2:
                problems.add(at, f'{name} takes [NODE, NAME, ...], got {args!r}')
                continue
            node = args[0]
            if node in ('SOURCE', 'TARGET') or function_of(node):
                continue
            if node == 'SELF':
                type_name = self_type
            elif node in bp.node_templates:
                type_name = (bp.node_templates[node] or {}).get('type')
            else:
                problems.add(at, f"{name} names undeclared node '{node}'")
                continue
            if name == 'get_property' and type_name and isinstance(args[1], str) \
                    and args[1] not in bp.properties_of(type_name):
                problems.add(at, f"get_property: {type_name} declares no property '{args[1]}'")


def check_operation(bp, op, where, problems):
    """A plugin task of an imported plugin, or a script next to the blueprint."""
    implementation = op.get('implementation') if isinstance(op, dict) else op
    if not implementation:
        return
    if re.search(r'\.(sh|py|bash)$', implementation) or '/' in implementation:
        if not os.path.isfile(os.path.join(bp.dir, implementation)):
            problems.add(where, f'script {implementation} does not exist (relative to the blueprint)')
        return
    plugin, _, task = implementation.partition('.')
    if plugin not in bp.plugins:
        problems.add(where, f"implementation {implementation}: no plugin '{plugin}' is imported")
    elif bp.plugins[plugin] is not None and task not in bp.plugins[plugin]:
        problems.add(where, f'implementation {implementation}: the {plugin} plugin has no {task}')
    script = default_of(((op.get('inputs') or {}) if isinstance(op, dict) else {}).get('script_path'))
    if isinstance(script, str) and not os.path.isfile(os.path.join(bp.dir, script)):
        problems.add(where, f'script_path {script} does not exist (relative to the blueprint)')


def check_node_types(bp, problems):
    for name, body in bp.node_types.items():
        if name not in bp.type_files:
            continue  # external
        where = f'{bp.where(bp.type_files[name])}: node_types.{name}'
        parent = body.get('derived_from')
        if parent and parent not in bp.node_types:
            problems.add(where, f'derived_from names undeclared type {parent}')
        for prop, schema in (body.get('properties') or {}).items():
            ptype = (schema or {}).get('type')
            if ptype and ptype not in PRIMITIVE_TYPES and ptype not in bp.data_types:
                problems.add(f'{where}.properties.{prop}', f'undeclared type {ptype}')
            check_functions(bp, schema, f'{where}.properties.{prop}', name, problems)
        for iface, ops in (body.get('interfaces') or {}).items():
            for op_name, op in (ops or {}).items():
                at = f'{where}.interfaces.{iface}.{op_name}'
                if iface == 'cloudify.interfaces.lifecycle' and op_name not in LIFECYCLE_OPERATIONS:
                    problems.add(at, f'not a lifecycle operation (one of {", ".join(LIFECYCLE_OPERATIONS)})')
                check_operation(bp, op, at, problems)
                check_functions(bp, op, at, name, problems)
                for command in commands_in(op.get('inputs') if isinstance(op, dict) else None):
                    check_command_text(bp.src, command, at, problems)


def check_node_templates(bp, problems):
    for name, node in bp.node_templates.items():
        where = f'{bp.where(bp.path)}: node_templates.{name}'
        node = node or {}
        type_name = node.get('type')
        if type_name not in bp.node_types:
            problems.add(where, f'type {type_name} is not declared')
            type_name = None
        declared = bp.properties_of(type_name) if type_name else {}
        given = node.get('properties') or {}
        if type_name:
            for prop in given:
                if prop not in declared:
                    problems.add(where, f"property '{prop}' is not declared by {type_name}")
            for prop, schema in declared.items():
                schema = schema or {}
                if prop not in given and 'default' not in schema and schema.get('required', True):
                    problems.add(where, f"required property '{prop}' of {type_name} is missing")
        contained = 0
        for i, relationship in enumerate(node.get('relationships') or []):
            rtype, target = relationship.get('type'), relationship.get('target')
            if rtype not in bp.relationships:
                problems.add(f'{where}.relationships[{i}]', f'relationship type {rtype} is not declared')
            if target not in bp.node_templates:
                problems.add(f'{where}.relationships[{i}]', f'target {target} is not a declared node template')
            elif target == name:
                problems.add(f'{where}.relationships[{i}]', 'a node cannot target itself')
            if rtype == 'cloudify.relationships.contained_in':
                contained += 1
        if contained > 1:
            problems.add(where, 'contained in more than one node')
        scalable = ((node.get('capabilities') or {}).get('scalable') or {}).get('properties') or {}
        for key in scalable:
            if key not in ('default_instances', 'min_instances', 'max_instances'):
                problems.add(f'{where}.capabilities.scalable', f'unknown property {key}')
        check_functions(bp, node, where, type_name, problems)
        for iface, ops in (node.get('interfaces') or {}).items():
            for op_name, op in (ops or {}).items():
                check_operation(bp, op, f'{where}.interfaces.{iface}.{op_name}', problems)
        for command in commands_in(given):
            check_command_text(bp.src, command, f'{where}.properties', problems)


def nodes_on(bp, machine):
    """The node templates contained in a machine, dependencies first (None: a cycle)."""
    local = [n for n, body in bp.node_templates.items()
             if any(r.get('type') == 'cloudify.relationships.contained_in' and r.get('target') == machine
                    for r in (body or {}).get('relationships') or [])]
    ordered, pending = [], list(local)
    while pending:
        ready = [n for n in pending
                 if all(r.get('target') not in pending
                        for r in (bp.node_templates[n] or {}).get('relationships') or [])]
        if not ready:
            return None
        ordered += ready
        pending = [n for n in pending if n not in ready]
    return ordered


def lifecycle_of(bp, node):
    ops = {}
    for t in reversed(bp.type_chain((bp.node_templates[node] or {}).get('type'))):
        ops.update(((bp.node_types[t].get('interfaces') or {}).get('cloudify.interfaces.lifecycle')) or {})
    return ops


def merged_inputs(bp, values):
    """The inputs' values: the file's, else the declared defaults."""
    merged = {}
    for name, schema in bp.inputs.items():
        if name in values:
            merged[name] = values[name]
        elif 'default' in (schema or {}):
            merged[name] = schema['default']
    return merged


def check_blueprints(src, problems, sequences):
    bp_dir = os.path.join(src, 'blueprints')
    paths = sorted(os.path.join(d, f) for d, _, files in os.walk(bp_dir) for f in files
                   if f.endswith(('.yaml', '.yml')))
    docs = {p: load_yaml(p, problems, os.path.relpath(p, src)) for p in paths}
    main = [p for p, d in docs.items() if isinstance(d, dict) and 'node_templates' in d]
    if not main:
        problems.add('blueprints/', 'no blueprint (a YAML file with node_templates)')
        return
    inputs_files = [p for p in paths if os.sep + 'inputs' + os.sep in p]
    if not inputs_files:
        problems.add('blueprints/inputs/', 'no example inputs files')
    for path in main:
        doc = docs[path]
        bp = Blueprint(src, path, doc)
        where = bp.where(path)
        if doc.get('tosca_definitions_version') != 'cloudify_dsl_1_3':
            problems.add(where, 'tosca_definitions_version is not cloudify_dsl_1_3')
        declare(bp, path, doc, docs, problems, {path})
        check_node_types(bp, problems)
        check_node_templates(bp, problems)
        outputs = doc.get('outputs') or {}
        manager_ip = (outputs.get('manager_ip') or {}).get('value')
        fn = function_of(manager_ip)
        if not fn or fn[0] != 'get_input':
            problems.add(where, 'output manager_ip is not an input (the floating IP)')
        check_functions(bp, outputs, f'{where}: outputs', None, problems)
        for name, node in bp.node_templates.items():
            if (node or {}).get('type') in bp.node_types and \
                    'cloudify.nodes.Compute' in bp.type_chain(node['type']):
                if nodes_on(bp, name) is None:
                    problems.add(f'{where}: {name}', 'the nodes on this machine depend on each other in a cycle')
        # The example inputs against their declarations and constraints:
        # Cloudify's own parser does it (blueprint_parser_test.py).
        check_blueprint_runs(src, bp, {p: docs[p] for p in inputs_files}, problems, sequences)


# ---- the commands, run by a shell against stand-ins -------------------------------
#
# What the lab's nodes, the VMs and the machines would run: the real
# scripts/provision-node, with every install script (and scripts/setup and
# scripts/build) replaced by a stand-in that records its arguments. The
# blueprint's commands run as the fabric plugin sends them (run_commands,
# use_sudo: "echo 'COMMAND' | sudo -i --", with bash in place of sudo here).

# A --db-file's and a --secrets file's content is recorded too, as
# --db-file-content and --secrets-content (pseudo-arguments: what the script
# read, not what was on its command line; its lines joined by spaces).
STAND_IN = '''#!/bin/bash
{ printf '%s' NAME; prev=
  for a in "$@"; do
    printf '\\037%s' "$a"
    case "$prev" in --db-file|--secrets) printf '\\037%s-content\\037%s' "$prev" "$(tr '\\n' ' ' <"$a" 2>/dev/null)" ;; esac
    prev=$a
  done; printf '\\n'; } >>LOG
'''
STAND_IN_SECRET = 'manager-password-of-the-stand-ins'
STAND_IN_GOSSIP = 'c3RhbmQtaW4gZ29zc2lwIGtleSAzMiBieXRlcyEhISE='


def stand_in_tree(src, root):
    """root/ with a stand-in for every components/*/install.sh, scripts/setup and
    scripts/build of src, and src's own scripts/provision-node; returns (log,
    secrets file)."""
    log = os.path.join(root, 'calls.log')
    names = ['scripts/setup', 'scripts/build'] + sorted(
        f'components/{c}/install.sh' for c in os.listdir(os.path.join(src, 'components'))
        if os.path.isfile(os.path.join(src, 'components', c, 'install.sh')))
    for name in names:
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(STAND_IN.replace('NAME', name).replace('LOG', log))
        os.chmod(path, 0o755)
    if os.path.isfile(os.path.join(src, PROVISION)):
        shutil.copy2(os.path.join(src, PROVISION), os.path.join(root, PROVISION))
    # The only commands the runs find on their PATH: what the commands,
    # provision-node and the lab's functions use besides the stand-ins (a real
    # install.sh reached by mistake fails at once, without install, mkdir or
    # systemctl).
    os.makedirs(os.path.join(root, 'bin'))
    for tool in ('bash', 'sed', 'ip', 'awk', 'dirname', 'cat', 'grep', 'mktemp', 'rm', 'tr'):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), os.path.join(root, 'bin', tool))
    secrets = os.path.join(root, 'db-secrets')
    with open(secrets, 'w', encoding='utf-8') as f:
        f.write(f'# stand-in\nsuperuser=x\nmanager={STAND_IN_SECRET}\nconsul_gossip={STAND_IN_GOSSIP}\n')
    return log, secrets


def unprivileged():
    """The command prefix that runs the machines' commands as nobody when this
    test runs as root: they are shell written in the repository, run here only
    to check them, and must not be able to touch this machine."""
    if os.geteuid() == 0 and shutil.which('setpriv'):
        return [shutil.which('setpriv'), '--reuid=65534', '--regid=65534', '--clear-groups']
    return []


def open_to_nobody(root):
    """The stand-in tree writable by the unprivileged runs (they append to its log)."""
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o666)


def read_calls(log):
    """[(script, [args])] recorded since the log was last emptied; empties it."""
    try:
        with open(log, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    os.remove(log)
    return [(line.split('\x1f')[0], line.split('\x1f')[1:]) for line in lines]


def option(args, name):
    """Every value given to --name in an argument list."""
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == name]


def evaluate(bp, value, inputs, node):
    """Cloudify's get_input, get_property (SELF or a node) and concat, as the
    plan would evaluate them for one node."""
    fn = function_of(value)
    if fn:
        name, args = fn
        if name == 'get_input':
            path = args if isinstance(args, list) else [args]
            result = inputs[path[0]]
            for step in path[1:]:
                result = result[step]
            return evaluate(bp, result, inputs, node)
        if name == 'get_property':
            target = node if args[0] == 'SELF' else args[0]
            result = (bp.node_templates[target] or {}).get('properties', {})
            for step in args[1:]:
                result = evaluate(bp, result[step], inputs, target)
            return result
        if name == 'concat':
            return ''.join(str(evaluate(bp, piece, inputs, node)) for piece in args)
        raise ValueError(f'{name} is not evaluated here')
    if isinstance(value, dict):
        return {k: evaluate(bp, v, inputs, node) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(bp, v, inputs, node) for v in value]
    return value


def default_of(schema):
    return schema.get('default') if isinstance(schema, dict) and 'default' in schema else schema


def run_blueprint(bp, values, stand_ins, problems, where):
    """{machine: ([(script, args)], output, [command])}: what each machine's
    install would run, and what it printed."""
    log, secrets = stand_ins
    inputs = merged_inputs(bp, values)
    inputs.update(repository_dir=os.path.dirname(log), db_secrets_file=secrets)
    runs = {}
    machines = [n for n, body in bp.node_templates.items()
                if 'cloudify.nodes.Compute' in bp.type_chain((body or {}).get('type'))]
    for machine in machines:
        read_calls(log)
        output, commands = '', []
        for node in nodes_on(bp, machine) or []:
            scalable = ((bp.node_templates[node].get('capabilities') or {}).get('scalable') or {})
            if evaluate(bp, (scalable.get('properties') or {}).get('default_instances', 1), inputs, node) == 0:
                continue
            for op_name, op in ((o, lifecycle_of(bp, node).get(o)) for o in INSTALL_ORDER):
                if not isinstance(op, dict) or not op.get('implementation'):
                    continue
                op_inputs = {k: evaluate(bp, default_of(v), inputs, node)
                             for k, v in (op.get('inputs') or {}).items()}
                at = f'{where}: {node}.{op_name}'
                if op['implementation'] != 'fabric.fabric_plugin.tasks.run_commands':
                    problems.add(at, f'{op["implementation"]} is not run here')
                    continue
                if op_inputs.get('use_sudo') is not True:
                    problems.add(at, 'use_sudo is not true: the components install as root')
                for command in op_inputs.get('commands') or []:
                    commands.append(command)
                    # The fabric plugin's use_sudo, with bash for sudo -i --; the
                    # stand-ins, provision-node and a few tools are all it can run.
                    shell = f"echo '{command}' | /bin/bash"
                    open_to_nobody(os.path.dirname(log))
                    result = subprocess.run(unprivileged() + ['/bin/bash', '-c', shell], capture_output=True, text=True,
                                            cwd=os.path.dirname(log), timeout=60,
                                            env={'PATH': os.path.join(os.path.dirname(log), 'bin')})
                    output += result.stdout + result.stderr
                    if result.returncode != 0:
                        problems.add(at, f'{command!r} fails in a shell: {result.stderr.strip()}')
        runs[machine] = (read_calls(log), output, commands)
    return runs


def check_blueprint_runs(src, bp, inputs_files, problems, sequences):
    """The blueprint's commands for each example inputs file, run against stand-ins.
    An inputs file with a value that is not shell-safe is not run: its commands
    would run whatever the value holds (Cloudify's parser refuses it: blueprint_parser_test.py)."""
    with tempfile.TemporaryDirectory() as root:
        stand_ins = stand_in_tree(src, root)
        for path, values in inputs_files.items():
            if not isinstance(values, dict) or any(
                    isinstance(v, str) and not SHELL_SAFE.match(v) for _, v in walk(values)):
                continue
            where = os.path.relpath(path, src)
            try:
                runs = run_blueprint(bp, values, stand_ins, problems, where)
            except (KeyError, IndexError, TypeError, ValueError) as e:
                problems.add(where, f'the commands cannot be evaluated with these inputs: {e!r}')
                continue
            inputs = merged_inputs(bp, values)
            addresses = [inputs.get(f'machine_{i}_address') for i in (1, 2, 3)]
            managers = [m for m, (calls, _, _) in runs.items()
                        if any(s == 'components/ha-supervisor/install.sh' for s, _ in calls)]
            for machine, (calls, output, commands) in runs.items():
                at = f'{where}: {machine}'
                # Which machine this one is: by its address (ip).
                ip = evaluate(bp, ((bp.node_templates[machine] or {}).get('properties') or {}).get('ip'),
                              inputs, machine)
                index = addresses.index(ip) if ip in addresses else len(addresses)
                if sum(len(re.findall(rf'/{PROVISION}(?:\s|$)', c)) for c in commands) != 1:
                    problems.add(at, f'runs {PROVISION} {sum(c.count(PROVISION) for c in commands)} times, '
                                     f'not once: it is the one provisioning order')
                if any(STAND_IN_SECRET in c for c in commands):
                    problems.add(at, 'the password is on a command line')
                role = 'manager' if index < 2 or inputs.get('third_machine_role') == 'manager' else 'witness'
                check_provisioning(calls, output, {
                    'role': role, 'address': addresses[index] if index < len(addresses) else None,
                    'servers': addresses, 'db_hosts': addresses,
                    'consul_prefix': inputs.get('consul_prefix') or None,
                    'setup': inputs.get('machine_setup') == 'build',
                    'vip': f'{inputs.get("floating_ip")}/{inputs.get("floating_ip_prefix_length")}',
                    'vip_interface': inputs.get('vip_interface')}, f'{at} (run)', problems, sequences)
            expected = 3 if inputs.get('third_machine_role') == 'manager' else 2
            if len(managers) != expected:
                problems.add(where, f'{len(managers)} managers installed for third_machine_role='
                                    f'{inputs.get("third_machine_role")}')


# ---- the lab ------------------------------------------------------------------------

def check_lab_runs(src, problems, sequences):
    """scripts/lab's provision_node, run here: its functions and settings taken
    from scripts/lab, in_node running the command in this process's place (the
    lab's marker file left out), against stand-ins; a manager of three, and a
    manager and the witness of a --nodes 2 lab."""
    lab = read_text(src, 'scripts/lab', problems)
    if lab is None:
        return
    functions = {name: shell_function(lab, name) for name in ('die', 'say', 'ip_of', 'nodes', 'managers',
                                                               'provision_node')}
    missing = [name for name, body in functions.items() if body is None]
    if missing:
        problems.add('scripts/lab', f'no {", ".join(missing)}() to run provision_node with')
        return
    settings = '\n'.join(re.findall(r'^(?:subnet|client|client_ip|vip)=.*$', lab, re.M))
    for nodes, node, role in ((['n1', 'n2', 'n3'], 'n1', 'manager'), (['n1', 'n2', 'w1'], 'n1', 'manager'),
                              (['n1', 'n2', 'w1'], 'w1', 'witness')):
        where = f'scripts/lab (provision_node {node} of {" ".join(nodes)}, run)'
        with tempfile.TemporaryDirectory() as root:
            log, _ = stand_in_tree(src, root)
            state = os.path.join(root, '.run', 'lab')
            os.makedirs(os.path.join(state, node))
            with open(os.path.join(state, 'nodes'), 'w', encoding='utf-8') as f:
                f.write(''.join(f'{n}\n' for n in nodes))
            with open(os.path.join(state, 'db-secrets'), 'w', encoding='utf-8') as f:
                f.write(f'# stand-in\nsuperuser=x\nmanager={STAND_IN_SECRET}\nconsul_gossip={STAND_IN_GOSSIP}\n')
            in_node = os.path.join(root, 'in_node.log')
            script = '\n'.join([
                'set -euo pipefail', settings, f"top='{root}' state='{state}'",
                *functions.values(),
                # The command, as the node would run it; its arguments kept to
                # check that no password is among them.
                f'in_node() {{ shift; [ "$1" = touch ] && return 0; printf "%s\\n" "$*" >>"{in_node}"; "$@"; }}',
                f'provision_node {node}', ''])
            open_to_nobody(root)
            result = subprocess.run(unprivileged() + ['/bin/bash', '-c', script], capture_output=True, text=True,
                                    timeout=60, env={'PATH': os.path.join(root, 'bin')})
            calls = read_calls(log)
            texts = {}
            for name in ('timings', 'provision.log'):
                try:
                    with open(os.path.join(state, node, name), encoding='utf-8') as f:
                        texts[name] = f.read()
                except FileNotFoundError:
                    texts[name] = ''
            try:
                with open(in_node, encoding='utf-8') as f:
                    command_lines = f.read()
            except FileNotFoundError:
                command_lines = ''
        if result.returncode != 0:
            problems.add(where, f'exits {result.returncode}: {(result.stderr + texts["provision.log"]).strip()}')
            continue
        if PROVISION not in command_lines:
            problems.add(where, f'does not run {PROVISION} in the node')
        if STAND_IN_SECRET in command_lines:
            problems.add(where, 'the password is on a command line')
        ip = {'n1': '198.18.0.11', 'n2': '198.18.0.12', 'n3': '198.18.0.13', 'w1': '198.18.0.19'}
        managers = [ip[n] for n in nodes if n.startswith('n')]
        check_provisioning(calls, texts['provision.log'] + result.stdout + result.stderr, {
            'role': role, 'address': ip[node], 'servers': [ip[n] for n in nodes], 'db_hosts': managers,
            'consul_prefix': os.path.join(root, '.deps/consul'), 'setup': False,
            'vip': '198.18.0.100/24', 'vip_interface': 'eth0'}, where, problems, sequences)
        # lab up's summary reads "COMPONENT MS" lines; provision.log says each step.
        sequence = [s.split('/')[1] for s, _ in calls if s.startswith('components/')]
        timed = re.findall(r'^([a-z0-9-]+) [0-9]+$', texts['timings'], re.M)
        logged = re.findall(r'^lab: ([a-z0-9-]+) installed in [0-9]+ ms \(exit 0\)$', texts['provision.log'], re.M)
        if timed != sequence:
            problems.add(where, f'the timings file lists {timed}, not each step installed ({sequence}) '
                                f'as "COMPONENT MS": {texts["timings"]!r}')
        if logged != sequence:
            problems.add(where, f'provision.log says "lab: COMPONENT installed in MS ms (exit 0)" for {logged}, '
                                f'not for each step installed ({sequence})')


# ---- vagrant --------------------------------------------------------------------

# Vagrant, as far as the Vagrantfile uses it: records each VM's provisioners
# (name and options) and SRC, runs no trigger.
VAGRANT_STAND_IN = r'''
require "json"
class Rec
  def initialize(log, machine = nil) @log = log; @machine = machine end
  def define(name, *) yield Rec.new(@log, name) if block_given? end
  def provision(name, **opts) @log << { "machine" => @machine, "name" => name, "opts" => opts } end
  def ruby(*) end
  def method_missing(*) yield Rec.new(@log, @machine) if block_given?; self end
  def respond_to_missing?(*) true end
end
module Vagrant
  LOG = []
  def self.require_version(*) end
  def self.configure(*) yield Rec.new(LOG) end
end
load ARGV[0]
puts JSON.generate({ "provisioners" => Vagrant::LOG, "src" => (defined?(SRC) ? SRC : nil) })
'''


def vagrant_provisioners(vfile, problems):
    """(provisioners, SRC) of the Vagrantfile, evaluated by Ruby; None without ruby."""
    if shutil.which('ruby') is None:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        fake = os.path.join(scratch, 'vagrant_stand_in.rb')
        with open(fake, 'w', encoding='utf-8') as f:
            f.write(VAGRANT_STAND_IN)
        result = subprocess.run(['ruby', fake, vfile], capture_output=True, text=True, timeout=60,
                                cwd=os.path.dirname(vfile), env=dict(os.environ, HOME=scratch))
    if result.returncode != 0:
        problems.add('vagrant/Vagrantfile', f'does not evaluate (Ruby, with a stand-in for Vagrant): '
                                            f'{result.stderr.strip()}')
        return [], None
    import json
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return data['provisioners'], data['src']


def check_vagrant(src, problems, sequences):
    vdir = os.path.join(src, 'vagrant')
    vfile = os.path.join(vdir, 'Vagrantfile')
    text = read_text(src, 'vagrant/Vagrantfile', problems)
    if text is None:
        return
    if 'debian/bookworm64' not in text:
        problems.add('vagrant/Vagrantfile', 'the box is not debian/bookworm64')
    check_command_text(src, code_of(text), 'vagrant/Vagrantfile', problems)
    # Each provisioner: its script (path: "X", relative to vagrant/) or the
    # repository script its inline runs, and the options it passes (up to the
    # next provisioner).
    blocks = re.split(r'\.vm\.provision\b', text)[1:]
    if not any(re.search(r'\b(?:path|inline):', b) for b in blocks):
        problems.add('vagrant/Vagrantfile', 'no provisioner (path: or inline:)')
    runs_it = False
    for block in blocks:
        options = re.findall(r'["\'](--[a-z][a-z0-9-]*)["\']', block)
        found = re.search(r'\bpath:\s*["\']([^"\']+)["\']', block)
        if found:
            script, full = found.group(1), os.path.normpath(os.path.join(vdir, found.group(1)))
            if not os.path.isfile(full):
                problems.add('vagrant/Vagrantfile', f'provisioner path {script} does not exist')
                continue
            check_command_text(src, code_of(open(full, encoding='utf-8').read()),
                               os.path.relpath(full, src), problems)
        elif re.search(r'\binline:[^\n]*' + re.escape(PROVISION), block):
            script, full = PROVISION, os.path.join(src, PROVISION)
            runs_it = True
            if not os.path.isfile(full):
                continue  # reported by check_command_text
        else:
            continue
        for name in options:
            if name not in script_options(full):
                problems.add('vagrant/Vagrantfile', f'{script} does not accept {name}')
    if not runs_it:
        problems.add('vagrant/Vagrantfile', f'no provisioner runs {PROVISION} (inline:)')
    evaluated = vagrant_provisioners(vfile, problems)
    if evaluated is None:
        SKIPPED.add('SKIP: the Vagrant provisioning run: ruby is not installed (vagrant brings it)')
        return
    check_vagrant_runs(src, *evaluated, problems, sequences)


def check_vagrant_runs(src, provisioners, vagrant_src, problems, sequences):
    """Each VM's provisioners that run provision-node, run as Vagrant runs an
    inline script (bash SCRIPT ARGS), with the checkout's path (SRC) made the
    stand-ins' and the VM's address made 127.0.0.1 (lo holds it, so the
    interface lookup has something to find)."""
    machines = list(dict.fromkeys(p['machine'] for p in provisioners if p.get('machine')))
    if not machines:
        problems.add('vagrant/Vagrantfile', 'no VM with provisioners (config.vm.define)')
    runs = {m: [p for p in provisioners if p['machine'] == m and PROVISION in repr(p['opts'])] for m in machines}
    # Every VM's address, in the VMs' order: the Consul servers and the database hosts.
    addresses = [(option([str(a) for a in mine[0]['opts'].get('args') or []], '--address') or [None])[0]
                 for mine in runs.values() if mine]
    for machine, mine in runs.items():
        where = f'vagrant/Vagrantfile ({machine}, run)'
        if len(mine) != 1:
            problems.add(where, f'{len(mine)} provisioners run {PROVISION}, not one')
            continue
        opts = mine[0]['opts']
        if not vagrant_src or 'inline' not in opts:
            problems.add(where, f'runs {PROVISION} from an uploaded copy (path:), not from the checkout '
                                f'(SRC) in the VM: it finds the components next to itself')
            continue
        args = [str(a) for a in opts.get('args') or []]
        if any(STAND_IN_SECRET in a or 'password=' in a for a in args):
            problems.add(where, 'a password is on a command line')
        address = (option(args, '--address') or [''])[0]
        with tempfile.TemporaryDirectory() as root:
            log, secrets_file = stand_in_tree(src, root)
            def local(value):
                return value.replace(vagrant_src, root).replace(address, '127.0.0.1') if address else value
            args = [local(a) for a in args]
            for secrets in option(args, '--secrets'):
                if secrets.startswith(root + '/'):
                    os.makedirs(os.path.dirname(secrets), exist_ok=True)
                    shutil.copy(secrets_file, secrets)
            inline = os.path.join(root, 'vagrant-shell')
            with open(inline, 'w', encoding='utf-8') as f:
                f.write(local(opts['inline']))
            open_to_nobody(root)
            result = subprocess.run(unprivileged() + ['/bin/bash', inline] + args, capture_output=True,
                                    text=True, timeout=60, env={'PATH': os.path.join(root, 'bin')})
            calls = read_calls(log)
            if result.returncode != 0:
                problems.add(where, f'exits {result.returncode}: {result.stderr.strip()}')
                continue
            vip = (option(args, '--vip') or [''])[0]
            every = [local(a) for a in addresses]
            check_provisioning(calls, result.stdout + result.stderr, {
                'role': 'manager', 'address': '127.0.0.1', 'servers': every, 'db_hosts': every,
                'consul_prefix': os.path.join(root, '.deps/consul'),
                'setup': False, 'vip': vip, 'vip_interface': 'lo'}, where, problems, sequences)


def vagrant_validate(vdir, scratch):
    """(ok, output) of `vagrant validate --ignore-provider` in vdir: its state in
    scratch, not in the source tree, and no network when unshare can drop it."""
    env = dict(os.environ, VAGRANT_HOME=os.path.join(scratch, 'home'),
               VAGRANT_DOTFILE_PATH=os.path.join(scratch, 'dot'),
               VAGRANT_CHECKPOINT_DISABLE='1', VAGRANT_BOX_UPDATE_CHECK_DISABLE='1',
               VAGRANT_NO_COLOR='1')
    command = ['vagrant', 'validate', '--ignore-provider']
    if shutil.which('unshare') and subprocess.run(['unshare', '--net', '--map-root-user', 'true'],
                                                  capture_output=True).returncode == 0:
        command = ['unshare', '--net', '--map-root-user'] + command
    result = subprocess.run(command, cwd=vdir, env=env, capture_output=True, text=True, timeout=120)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


# ---- the checks must be able to fail ----------------------------------------------

def replace_in(path, old, new, count=1):
    def apply(root):
        full = os.path.join(root, path)
        with open(full, encoding='utf-8') as f:
            text = f.read()
        if old not in text:
            raise LookupError(f'{path} no longer holds {old!r}: update this break')
        with open(full, 'w', encoding='utf-8') as f:
            f.write(text.replace(old, new, count))
    return apply


def remove(path):
    def apply(root):
        os.remove(os.path.join(root, path))
    return apply


def drop_input(name):
    def apply(root):
        path = os.path.join(root, 'blueprints/ha-manager-blueprint.yaml')
        with open(path, encoding='utf-8') as f:
            text = f.read()
        block = re.search(rf'^  {name}:\n(?:    .*\n|\n)*', text, re.M)
        if not block:
            raise LookupError(f'the blueprint declares no input {name}: update this break')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text[:block.start()] + text[block.end():])
    return apply


def insert_after(path, anchor, text):
    return replace_in(path, anchor, anchor + text)


BREAKS = [
    # One order: provision-node, and nothing else, installs components.
    ('the lab installs a component itself',
     insert_after('scripts/lab', '3>>"$state/$n/timings" >>"$state/$n/provision.log" 2>&1 || return\n',
                  '  in_node "$n" "$top/components/nginx/install.sh"\n'),
     'scripts/lab: runs components/nginx/install.sh itself'),
    ('the lab no longer runs provision-node',
     replace_in('scripts/lab', 'in_node "$n" "$top/scripts/provision-node"', 'in_node "$n" "$top/scripts/setup"'),
     'provision_node does not run scripts/provision-node'),
    ('the lab passes provision-node an option it does not take',
     replace_in('scripts/lab', '--log-tag lab', '--log-tags lab'),
     'scripts/provision-node does not accept --log-tags'),
    ('the lab no longer writes its per-step timings',
     replace_in('scripts/lab', '--timings /dev/fd/3 ', ''),
     'the timings file lists []'),
    ('the lab puts a node on the wrong Consul servers',
     replace_in('scripts/lab', 'for o in $(nodes); do servers+=', 'for o in $(managers); do servers+='),
     'a cluster has three or more'),
    ('Vagrant installs a component itself',
     replace_in('vagrant/Vagrantfile', '#{SRC}/scripts/build"', '#{SRC}/scripts/build && #{SRC}/components/nginx/install.sh"'),
     'vagrant/Vagrantfile: runs components/nginx/install.sh itself'),
    ('the blueprint installs a component itself',
     insert_after('blueprints/types/ha-manager-types.yaml', '            commands:\n              default:\n',
                  '                - concat: [{ get_property: [SELF, repository_dir] }, /components/nginx/install.sh]\n'),
     'blueprints/types/ha-manager-types.yaml: runs components/nginx/install.sh itself'),
    ('a machine of the blueprint does not run provision-node',
     replace_in('blueprints/types/ha-manager-types.yaml', "'/scripts/provision-node --setup '",
                "'/scripts/setup --role '"),
     'runs scripts/provision-node 0 times'),
    ('provision-node gives a component an option it does not take',
     replace_in('scripts/provision-node', '--folder-id ha-opt', '--folder-idx ha-opt'),
     'components/upload-gate/install.sh does not accept --folder-idx'),
    ('provision-node leaves a component out',
     replace_in('scripts/provision-node', 'step nginx\n', ''),
     'nginx: never installed on a manager'),
    ('provision-node installs more than Consul on a witness',
     replace_in('scripts/provision-node', '[ "$role" = manager ] || exit 0\n', ''),
     'a witness runs only consul'),
    ('provision-node makes a node join itself',
     replace_in('scripts/provision-node', '  [ "$s" = "$address" ] && continue\n', ''),
     'the other servers are'),
    ('the REST service gets no password from the secrets file',
     replace_in('scripts/provision-node', 'password=$password"', 'password="'),
     "conninfo lacks the secrets file's password"),
    ('the REST service\'s install gets the conninfo on its command line again',
     replace_in('scripts/provision-node', 'step rest-service --db-file "$db_file"', 'step rest-service --db "$conninfo"'),
     'gets the password on its command line'),
    ('provision-node writes the password to its output',
     insert_after('scripts/provision-node', '[ -n "$password" ] || die "$secrets has no manager= line"\n',
                  'echo "read $password"\n'),
     'the password appears in the output'),
    ('consul gets the gossip key on its command line',
     replace_in('scripts/provision-node', '--secrets "$secrets")',
                '--secrets "$secrets" --gossip-key "$(sed -n s/^consul_gossip=//p "$secrets")")'),
     'gets the gossip key on its command line'),
    ('consul is installed without the cluster\'s secrets',
     replace_in('scripts/provision-node', ' --secrets "$secrets")', ')'),
     'does not get the cluster\'s gossip key'),
    ('a component script is missing', remove('components/nginx/install.sh'),
     'components/nginx/install.sh does not exist'),
    ('provision-node is not executable',
     lambda root: os.chmod(os.path.join(root, 'scripts/provision-node'), 0o644),
     'scripts/provision-node is not executable'),
    # The blueprint's own structure.
    ('an input is no longer declared', drop_input('floating_ip'),
     "get_input names undeclared input 'floating_ip'"),
    ('a relationship targets an undeclared node',
     replace_in('blueprints/ha-manager-blueprint.yaml', 'target: machine_2', 'target: machine_9'),
     'target machine_9 is not a declared node template'),
    ('a node template names an undeclared type',
     replace_in('blueprints/ha-manager-blueprint.yaml', 'type: ha.nodes.ClusterNode', 'type: ha.nodes.ClusterNod'),
     'type ha.nodes.ClusterNod is not declared'),
    ('a relationship type is misspelt',
     replace_in('blueprints/ha-manager-blueprint.yaml', 'cloudify.relationships.contained_in',
                'cloudify.relationships.contain_in'),
     'relationship type cloudify.relationships.contain_in is not declared'),
    ('a node template gives an undeclared property',
     replace_in('blueprints/ha-manager-blueprint.yaml', '      vip_priority: { get_input: machine_2_vip_priority',
                '      vip_prio: { get_input: machine_2_vip_priority'),
     "property 'vip_prio' is not declared"),
    ('get_property names a property the type lacks',
     replace_in('blueprints/types/ha-manager-types.yaml', '[SELF, vip_interface]', '[SELF, vip_iface]'),
     "declares no property 'vip_iface'"),
    ('provision-node is given an option it does not take',
     replace_in('blueprints/types/ha-manager-types.yaml', "' --vip-interface '", "' --vip-iface '"),
     'scripts/provision-node does not accept --vip-iface'),
    ('a lifecycle operation is misspelt (Cloudify would never run it)',
     replace_in('blueprints/types/ha-manager-types.yaml', '        configure:\n', '        configur:\n'),
     'configur: not a lifecycle operation'),
    ('an imported types file is missing', remove('blueprints/types/ha-manager-types.yaml'),
     'import types/ha-manager-types.yaml does not exist'),
    ('a YAML file is not well formed',
     replace_in('blueprints/types/ha-manager-types.yaml', 'node_types:\n', 'node_types:\n  [unclosed\n'),
     'not well-formed YAML'),
    ('a key is given twice',
     replace_in('blueprints/inputs/three-managers.yaml', 'floating_ip: 192.0.2.100\n',
                'floating_ip: 192.0.2.100\nfloating_ip: 192.0.2.101\n'),
     "duplicate key 'floating_ip'"),
    ('unprovision-node forgets a component provision-node installs',
     replace_in('scripts/unprovision-node', 'syncthing patroni', 'patroni'),
     "scripts/unprovision-node: removes ha-supervisor upload-gate rest-service rabbitmq patroni"),
    ('a blueprint command is not valid shell',
     replace_in('blueprints/types/ha-manager-types.yaml', "' --name '", "' --name \"'"),
     'fails in a shell'),
    ('a Consul server of the blueprint is not told about the others',
     replace_in('blueprints/ha-manager-blueprint.yaml',
                '          - { get_input: machine_2_address }\n          - { get_input: machine_3_address }',
                '          - { get_input: machine_2_address }\n          - { get_input: machine_2_address }'),
     'a cluster has three or more'),
    # Vagrant.
    ('the Vagrantfile passes an option provision-node does not take',
     replace_in('vagrant/Vagrantfile', '"--db-peer-network"', '"--db-peer-net"'),
     'scripts/provision-node does not accept --db-peer-net'),
    ('the Vagrant provisioning gives a VM only itself as Consul server',
     replace_in('vagrant/Vagrantfile', 'NODES.values.flat_map { |a| ["--server", a] }',
                '[address].flat_map { |a| ["--server", a] }'),
     'a cluster has three or more'),
    ('the Vagrant provisioning gives the REST service other database hosts',
     replace_in('vagrant/Vagrantfile', 'NODES.values.flat_map { |a| ["--db-host", a] }',
                'NODES.values.reverse.flat_map { |a| ["--db-host", a] }'),
     "conninfo does not list the hosts"),
    ('a Vagrant provisioner script is missing', remove('vagrant/show-status.sh'),
     'provisioner path show-status.sh does not exist'),
]


def scratch_copy(src, root):
    for part in ('blueprints', 'vagrant', 'components', 'scripts', 'templates'):
        shutil.copytree(os.path.join(src, part), os.path.join(root, part), symlinks=True,
                        ignore=shutil.ignore_patterns('.vagrant', '.run', '__pycache__'))


def check_tree(src):
    problems, sequences = Problems(), {}
    check_one_order(src, problems)
    check_lab_runs(src, problems, sequences)
    check_vagrant(src, problems, sequences)
    check_blueprints(src, problems, sequences)
    check_complete(src, sequences, problems)
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    src = os.path.abspath(sys.argv[1])
    failed = False

    problems = check_tree(src)
    for p in problems:
        print(f'FAIL: {p}')
    failed |= bool(problems)
    if not problems:
        print('deploy files: one provisioning order; the lab, vagrant/ and blueprints/ check out')

    caught = 0
    for description, apply, expected in BREAKS:
        with tempfile.TemporaryDirectory() as root:
            scratch_copy(src, root)
            os.chmod(root, 0o755)  # its scripts run as nobody (unprivileged())
            try:
                apply(root)
            except LookupError as e:
                print(f'FAIL: break "{description}": {e}')
                continue
            found = check_tree(root)
            if any(expected in p for p in found):
                caught += 1
            else:
                shown = '; '.join(found[:8]) + (f' (and {len(found) - 8} more)' if len(found) > 8 else '')
                print(f'FAIL: break "{description}" was not reported as "{expected}"; got: {shown or "nothing"}')
    print(f'deploy files: {caught} of {len(BREAKS)} deliberate breaks caught')
    failed |= caught != len(BREAKS)

    for note in sorted(SKIPPED):
        print(note)
    if shutil.which('vagrant') is None:
        print('SKIP: vagrant validate: vagrant is not installed (scripts/setup installs it)')
    else:
        with tempfile.TemporaryDirectory() as scratch:
            ok, output = vagrant_validate(os.path.join(src, 'vagrant'), scratch)
            if not ok:
                print(f'FAIL: vagrant validate --ignore-provider:\n{output}')
                failed = True
            else:
                print('vagrant validate --ignore-provider: ok')
        # ...and it fails where it should: a provisioner script missing.
        with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as scratch:
            scratch_copy(src, root)
            remove('vagrant/show-status.sh')(root)
            ok, output = vagrant_validate(os.path.join(root, 'vagrant'), scratch)
            if ok or 'show-status.sh' not in output:
                print(f'FAIL: vagrant validate accepted a missing provisioner script:\n{output}')
                failed = True
            else:
                print('vagrant validate refuses a missing provisioner script: ok')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
