#!/usr/bin/env python3
"""The deployment files against the repository they deploy.

Neither Cloudify nor VirtualBox runs here, so this checks what can be checked
without them:

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
               is one it accepts; each machine gets the components the lab
               gives a node (scripts/lab, provision_node), in the same order;
               output manager_ip is an input. Example inputs files: only
               declared inputs, every required one, their constraints, every
               nested get_input path resolves, values are shell-safe (they
               reach root command lines). And for each example inputs file,
               the commands each machine would get, evaluated and run by
               bash as the fabric plugin sends them, against stand-ins for
               the scripts: valid shell; the lab's components in the lab's
               order on each manager, Consul only on a witness; Consul joins
               the other two servers; the REST service's conninfo carries
               the secrets file's password; the supervisor gets the floating
               IP.
  vagrant/     every provisioner script exists and takes the options the
               Vagrantfile passes; the repository files they name exist and
               get only options they accept; the same components as the lab,
               in the same order, also when provision-node.sh is run against
               stand-ins (with the lab's Consul, REST and supervisor
               options); and `vagrant validate --ignore-provider` (SKIP when
               vagrant is not installed), kept off the network, in place and
               on a copy with a provisioner script missing (it must fail).

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
        if rel.endswith('/install.sh'):
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


def lab_components(src, problems):
    """The components scripts/lab installs in a manager node, in order."""
    try:
        with open(os.path.join(src, 'scripts/lab'), encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        problems.add('scripts/lab', f'cannot read it: {e}')
        return []
    body = re.search(r'^provision_node\(\) \{\n(.*?)^\}', text, re.M | re.S)
    if not body:
        problems.add('scripts/lab', 'no provision_node() function: where does the lab provision a node now?')
        return []
    return re.findall(r'components/([a-z0-9-]+)/install\.sh', body.group(1))


def compare_with_lab(lab, got, where, problems):
    if lab and got != lab:
        problems.add(where, f'installs {" ".join(got) or "nothing"}; the lab (scripts/lab provision_node) '
                            f'installs {" ".join(lab)}, in that order')


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


def install_sequence(bp, machine):
    """The components installed on one machine, in the install workflow's order:
    nodes contained in it, dependencies first, each create/configure/start."""
    ordered = nodes_on(bp, machine)
    if ordered is None:
        return None
    sequence = []
    for n in ordered:
        ops = lifecycle_of(bp, n)
        for op_name in INSTALL_ORDER:
            op = ops.get(op_name)
            if isinstance(op, dict):
                for command in commands_in(op.get('inputs')):
                    sequence += re.findall(r'components/([a-z0-9-]+)/install\.sh', command)
    return sequence


def merged_inputs(bp, values):
    """The inputs' values: the file's, else the declared defaults."""
    merged = {}
    for name, schema in bp.inputs.items():
        if name in values:
            merged[name] = values[name]
        elif 'default' in (schema or {}):
            merged[name] = schema['default']
    return merged


def check_inputs_file(bp, path, values, problems):
    where = bp.where(path)
    if values is None:
        return  # reported when it was loaded
    if not isinstance(values, dict):
        problems.add(where, 'an inputs file is a mapping of input names to values')
        return
    for key in values:
        if key not in bp.inputs:
            problems.add(where, f"'{key}' is not an input of {os.path.basename(bp.path)}")
    merged = merged_inputs(bp, values)
    for name, schema in bp.inputs.items():
        if name in merged:
            check_input_value(name, schema or {}, merged[name], where, problems)
        elif (schema or {}).get('required', True):
            problems.add(where, f"required input '{name}' is missing")
    for key_path, value in walk(values):
        if isinstance(value, str) and not SHELL_SAFE.match(value):
            problems.add(where, f'{key_path}: {value!r} is not shell-safe (it reaches a root command line)')
    # Every nested get_input path of the blueprint and its types resolves.
    seen = set()
    for source in [bp.doc] + [bp.node_types[t] for t in bp.type_files]:
        for _, item in walk(source):
            fn = function_of(item)
            if not fn or fn[0] != 'get_input' or not isinstance(fn[1], list):
                continue
            key = tuple(str(a) for a in fn[1])
            if key in seen or fn[1][0] not in merged:
                continue
            seen.add(key)
            value, shown = merged[fn[1][0]], fn[1][0]
            for step in fn[1][1:]:
                if isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
                    value = value[step]
                elif isinstance(value, dict) and step in value:
                    value = value[step]
                else:
                    problems.add(where, f'{shown}: has no [{step!r}] (the blueprint reads {fn[1]!r})')
                    break
                shown += f'[{step!r}]'


def check_input_value(name, schema, value, where, problems):
    kinds = {'string': str, 'integer': int, 'boolean': bool, 'list': list, 'dict': dict, 'float': (int, float)}
    kind = schema.get('type')
    if kind in kinds and (not isinstance(value, kinds[kind]) or (kind == 'integer' and isinstance(value, bool))):
        problems.add(where, f'{name}: {value!r} is not a {kind}')
        return
    for constraint in schema.get('constraints') or []:
        (op, arg), = constraint.items()
        ok = True
        if op == 'valid_values':
            ok = value in arg
        elif op == 'pattern':
            ok = isinstance(value, str) and re.match(arg, value) is not None
        elif op == 'in_range':
            ok = arg[0] <= value <= arg[1]
        elif op in ('min_length', 'max_length', 'length'):
            n = len(value)
            ok = n >= arg if op == 'min_length' else n <= arg if op == 'max_length' else n == arg
        else:
            problems.add(where, f'{name}: constraint {op} is not checked here')
        if not ok:
            problems.add(where, f'{name}: {value!r} breaks the constraint {op}: {arg!r}')


def check_blueprints(src, problems):
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
    lab = lab_components(src, problems)
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
                sequence = install_sequence(bp, name)
                if sequence is None:
                    problems.add(f'{where}: {name}', 'the nodes on this machine depend on each other in a cycle')
                else:
                    compare_with_lab(lab, sequence, f'{where}: {name}', problems)
        for inputs_path in inputs_files:
            check_inputs_file(bp, inputs_path, docs[inputs_path], problems)
        check_blueprint_runs(src, bp, {p: docs[p] for p in inputs_files}, lab, problems)


# ---- the commands, run by a shell against stand-ins -------------------------------
#
# What the machines would run, with every script the commands name replaced by
# a stand-in that records its arguments: the commands are valid shell as the
# fabric plugin sends them (run_commands, use_sudo: "echo 'COMMAND' | sudo -i
# --", with bash in place of sudo here), and the components get the arguments
# the lab gives them.

STAND_IN = '''#!/bin/bash
{ printf '%s' NAME; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\n'; } >>LOG
'''
STAND_IN_SECRET = 'manager-password-of-the-stand-ins'


def stand_in_tree(src, root):
    """root/ with a stand-in for every components/*/install.sh, scripts/setup and
    scripts/build of src; returns (log, secrets file)."""
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
    # The only commands the runs find on their PATH: what the commands and
    # provision-node.sh use besides the stand-ins (a real install.sh reached by
    # mistake fails at once, without install, mkdir or systemctl).
    os.makedirs(os.path.join(root, 'bin'))
    for tool in ('sed', 'ip', 'awk'):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), os.path.join(root, 'bin', tool))
    secrets = os.path.join(root, 'db-secrets')
    with open(secrets, 'w', encoding='utf-8') as f:
        f.write(f'# stand-in\nsuperuser=x\nmanager={STAND_IN_SECRET}\n')
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
    """{machine: [(script, args)]}: what each machine's install would run."""
    log, secrets = stand_ins
    inputs = merged_inputs(bp, values)
    inputs.update(repository_dir=os.path.dirname(log), db_secrets_file=secrets)
    runs = {}
    machines = [n for n, body in bp.node_templates.items()
                if 'cloudify.nodes.Compute' in bp.type_chain((body or {}).get('type'))]
    for machine in machines:
        read_calls(log)
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
                    # The fabric plugin's use_sudo, with bash for sudo -i --; the
                    # stand-ins, sed, ip and awk are all it can run.
                    shell = f"echo '{command}' | /bin/bash"
                    open_to_nobody(os.path.dirname(log))
                    result = subprocess.run(unprivileged() + ['/bin/bash', '-c', shell], capture_output=True, text=True,
                                            cwd=os.path.dirname(log), timeout=60,
                                            env={'PATH': os.path.join(os.path.dirname(log), 'bin')})
                    if result.returncode != 0:
                        problems.add(at, f'{command!r} fails in a shell: {result.stderr.strip()}')
        runs[machine] = read_calls(log)
    return runs


def check_blueprint_runs(src, bp, inputs_files, lab, problems):
    """The blueprint's commands for each example inputs file, run against stand-ins.
    An inputs file with a value that is not shell-safe is not run: its commands
    would run whatever the value holds (it is reported by check_inputs_file)."""
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
            managers = [m for m, calls in runs.items()
                        if any(s == 'components/ha-supervisor/install.sh' for s, _ in calls)]
            addresses = [m.get('address') for m in inputs.get('machines') or []]
            for machine, calls in runs.items():
                at = f'{where}: {machine}'
                sequence = [s.split('/')[1] for s, _ in calls if s.startswith('components/')]
                if machine in managers:
                    compare_with_lab(lab, sequence, f'{at} (run)', problems)
                elif sequence != ['consul']:
                    problems.add(at, f'a witness runs only consul; this one runs {" ".join(sequence)}')
                for script, args in calls:
                    check_run_arguments(script, args, inputs, addresses, at, problems)
            if len(managers) != 2 + inputs.get('third_machine_is_manager', 1):
                problems.add(where, f'{len(managers)} managers installed for third_machine_is_manager='
                                    f'{inputs.get("third_machine_is_manager")}')


def check_run_arguments(script, args, inputs, addresses, where, problems):
    """The arguments a component got, against the inputs they come from."""
    if script == 'components/consul/install.sh':
        bind = option(args, '--bind')
        others = sorted(a for a in addresses if a not in bind)
        if sorted(option(args, '--join')) != others or option(args, '--expect') != ['3']:
            problems.add(where, f'consul joins {option(args, "--join")} (expect {option(args, "--expect")}); '
                                f'the other servers are {others} (expect 3)')
    elif script == 'components/rest-service/install.sh':
        db = (option(args, '--db') or [''])[0]
        if f'password={STAND_IN_SECRET} ' not in db:
            problems.add(where, f'the REST service\'s conninfo lacks the secrets file\'s password: {db!r}')
    elif script == 'components/ha-supervisor/install.sh':
        vip = f'{inputs.get("floating_ip")}/{inputs.get("floating_ip_prefix_length")}'
        if option(args, '--vip') != [vip]:
            problems.add(where, f'the supervisor gets --vip {option(args, "--vip")}, not {vip}')


# ---- vagrant --------------------------------------------------------------------

def join_continuations(text):
    return re.sub(r'\\\n\s*', ' ', text)


def check_vagrant(src, problems):
    vdir = os.path.join(src, 'vagrant')
    vfile = os.path.join(vdir, 'Vagrantfile')
    try:
        with open(vfile, encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        problems.add('vagrant/Vagrantfile', f'cannot read it: {e}')
        return
    if 'debian/bookworm64' not in text:
        problems.add('vagrant/Vagrantfile', 'the box is not debian/bookworm64')
    check_command_text(src, text, 'vagrant/Vagrantfile', problems)
    # Each provisioner script: path: "X" (relative to vagrant/), and the
    # options its provisioner passes (up to the next provisioner).
    provisioners = re.split(r'\.vm\.provision\b', text)[1:]
    scripts = []
    for block in provisioners:
        found = re.search(r'\bpath:\s*["\']([^"\']+)["\']', block)
        if found:
            scripts.append((found.group(1), re.findall(r'["\'](--[a-z][a-z0-9-]*)["\']', block)))
    if not scripts:
        problems.add('vagrant/Vagrantfile', 'no provisioner script (path: ...)')
    installed = []
    for script, options in scripts:
        full = os.path.normpath(os.path.join(vdir, script))
        where = os.path.relpath(full, src)
        if not os.path.isfile(full):
            problems.add('vagrant/Vagrantfile', f'provisioner path {script} does not exist')
            continue
        for name in options:
            if name not in script_options(full):
                problems.add('vagrant/Vagrantfile', f'{script} does not accept {name}')
        with open(full, encoding='utf-8') as f:
            body = join_continuations(f.read())
        # Comments name files too; only commands are checked for options.
        code = '\n'.join(line for line in body.splitlines() if not line.lstrip().startswith('#'))
        installed += [n.split('/')[1] for n in check_command_text(src, code, where, problems)
                      if n.startswith('components/') and n.endswith('/install.sh')]
    lab = lab_components(src, problems)
    compare_with_lab(lab, installed, 'vagrant (provisioners)', problems)
    node_script = os.path.join(vdir, 'provision-node.sh')
    if os.path.isfile(node_script):
        check_vagrant_run(src, node_script, lab, problems)


def check_vagrant_run(src, script, lab, problems):
    """provision-node.sh run against stand-ins, with loopback addresses (lo holds
    127.0.0.1, so the interface lookup has something to find)."""
    where = os.path.relpath(script, src) + ' (run)'
    with tempfile.TemporaryDirectory() as root:
        log, secrets = stand_in_tree(src, root)
        managers = ['127.0.0.1', '127.0.0.2', '127.0.0.3']
        args = ['--src', root, '--name', 'n1', '--address', '127.0.0.1', '--priority', '150',
                '--vip', '127.0.0.100/8', '--peer-network', '127.0.0.0/8', '--secrets', secrets]
        for m in managers:
            args += ['--manager', m]
        open_to_nobody(root)
        result = subprocess.run(unprivileged() + ['/bin/bash', script] + args, capture_output=True, text=True, timeout=60,
                                env={'PATH': os.path.join(root, 'bin')})
        if result.returncode != 0:
            problems.add(where, f'exits {result.returncode}: {result.stderr.strip()}')
            return
        calls = read_calls(log)
    sequence = [s.split('/')[1] for s, _ in calls if s.startswith('components/')]
    compare_with_lab(lab, sequence, where, problems)
    for script_name, got in calls:
        if script_name == 'components/consul/install.sh':
            if option(got, '--consul-prefix') != [os.path.join(root, '.deps/consul')] \
                    or sorted(option(got, '--join')) != managers[1:] or option(got, '--expect') != ['3']:
                problems.add(where, f'consul gets {got}: not the lab\'s --expect, --join, --consul-prefix')
        elif script_name == 'components/rest-service/install.sh':
            if f'password={STAND_IN_SECRET} ' not in (option(got, '--db') or [''])[0]:
                problems.add(where, f'the REST service\'s conninfo lacks the secrets file\'s password: {got}')
        elif script_name == 'components/ha-supervisor/install.sh':
            if option(got, '--vip-interface') != ['lo'] or option(got, '--vip') != ['127.0.0.100/8']:
                problems.add(where, f'the supervisor gets {got}: not the floating IP on the address\'s interface')


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


BREAKS = [
    ('an input is no longer declared', drop_input('floating_ip'),
     "get_input names undeclared input 'floating_ip'"),
    ('a component script is missing', remove('components/nginx/install.sh'),
     'components/nginx/install.sh does not exist'),
    ('a script named by a command is not executable',
     lambda root: os.chmod(os.path.join(root, 'scripts/build'), 0o644), 'scripts/build is not executable'),
    ('a relationship targets an undeclared node',
     replace_in('blueprints/ha-manager-blueprint.yaml', 'target: consul_2', 'target: consul_9'),
     'target consul_9 is not a declared node template'),
    ('a node template names an undeclared type',
     replace_in('blueprints/ha-manager-blueprint.yaml', 'type: ha.nodes.Manager', 'type: ha.nodes.Manger'),
     'type ha.nodes.Manger is not declared'),
    ('a relationship type is misspelt',
     replace_in('blueprints/ha-manager-blueprint.yaml', 'cloudify.relationships.depends_on',
                'cloudify.relationships.depend_on'),
     'relationship type cloudify.relationships.depend_on is not declared'),
    ('a node template gives an undeclared property',
     replace_in('blueprints/ha-manager-blueprint.yaml', '      vip_priority: { get_input: [machines, 1',
                '      vip_prio: { get_input: [machines, 1'),
     "property 'vip_prio' is not declared"),
    ('get_property names a property the type lacks',
     replace_in('blueprints/types/ha-manager-types.yaml', '[SELF, vip_interface]', '[SELF, vip_iface]'),
     "declares no property 'vip_iface'"),
    ('an install script is given an option it does not take',
     replace_in('blueprints/types/ha-manager-types.yaml', "' --vip-interface '", "' --vip-iface '"),
     'does not accept --vip-iface'),
    ('a lifecycle operation is misspelt (Cloudify would never run it)',
     replace_in('blueprints/types/ha-manager-types.yaml', '        configure:\n', '        configur:\n'),
     'configur: not a lifecycle operation'),
    ('a component of the lab is left out',
     replace_in('blueprints/types/ha-manager-types.yaml',
                "                - concat: [{ get_property: [SELF, repository_dir] }, /components/keepalived/install.sh]\n",
                ''),
     'the lab (scripts/lab provision_node) installs'),
    ('an imported types file is missing', remove('blueprints/types/ha-manager-types.yaml'),
     'import types/ha-manager-types.yaml does not exist'),
    ('a YAML file is not well formed',
     replace_in('blueprints/types/ha-manager-types.yaml', 'node_types:\n', 'node_types:\n  [unclosed\n'),
     'not well-formed YAML'),
    ('a key is given twice',
     replace_in('blueprints/inputs/three-managers.yaml', 'floating_ip: 192.0.2.100\n',
                'floating_ip: 192.0.2.100\nfloating_ip: 192.0.2.101\n'),
     "duplicate key 'floating_ip'"),
    ('an inputs file lacks a key a machine needs',
     replace_in('blueprints/inputs/three-managers.yaml', '    vip_priority: 130\n', ''),
     "has no ['vip_priority']"),
    ('an inputs file breaks a constraint',
     replace_in('blueprints/inputs/two-managers-and-witness.yaml', 'third_machine_is_manager: 0',
                'third_machine_is_manager: 2'),
     'third_machine_is_manager: 2 breaks the constraint valid_values'),
    ('an input value is not shell-safe',
     replace_in('blueprints/inputs/three-managers.yaml', 'name: n2', 'name: n2;true'),
     'is not shell-safe'),
    ('an inputs file names an undeclared input',
     replace_in('blueprints/inputs/three-managers.yaml', 'floating_ip_prefix_length:', 'floating_ip_prefix:'),
     "'floating_ip_prefix' is not an input"),
    ('a blueprint command is not valid shell',
     replace_in('blueprints/types/ha-manager-types.yaml', "') target_session_attrs", "' target_session_attrs"),
     'fails in a shell'),
    ('the REST service gets no password from the secrets file',
     replace_in('blueprints/types/ha-manager-types.yaml', 's/^manager=//p', 's/^managr=//p'),
     "conninfo lacks the secrets file's password"),
    ('a Consul server is not told about the others',
     replace_in('blueprints/ha-manager-blueprint.yaml',
                '        - { get_input: [machines, 1, address] }\n        - { get_input: [machines, 2, address] }',
                '        - { get_input: [machines, 1, address] }\n        - { get_input: [machines, 1, address] }'),
     'the other servers are'),
    ('the Vagrantfile passes an option its provisioner does not take',
     replace_in('vagrant/Vagrantfile', '"--peer-network"', '"--peer-net"'),
     'provision-node.sh does not accept --peer-net'),
    ('the Vagrant provisioning makes a node join itself',
     replace_in('vagrant/provision-node.sh', '[ "$m" = "$address" ] || joins+=', 'joins+='),
     "consul gets"),
    ('a Vagrant provisioner script is missing', remove('vagrant/show-status.sh'),
     'provisioner path show-status.sh does not exist'),
    ('the Vagrant provisioning passes an option a component does not take',
     replace_in('vagrant/provision-node.sh', '--consul-prefix', '--consul-prefx'),
     'does not accept --consul-prefx'),
    ('the Vagrant provisioning leaves a component out',
     replace_in('vagrant/provision-node.sh', '"$src/components/nginx/install.sh"\n', ''),
     'vagrant (provisioners): installs'),
]


def scratch_copy(src, root):
    for part in ('blueprints', 'vagrant', 'components', 'scripts', 'templates'):
        shutil.copytree(os.path.join(src, part), os.path.join(root, part), symlinks=True,
                        ignore=shutil.ignore_patterns('.vagrant', '.run', '__pycache__'))


def check_tree(src):
    problems = Problems()
    check_blueprints(src, problems)
    check_vagrant(src, problems)
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
        print('deploy files: blueprints/ and vagrant/ check out')

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
                print(f'FAIL: break "{description}" was not reported as "{expected}"; got: {found or "nothing"}')
    print(f'deploy files: {caught} of {len(BREAKS)} deliberate breaks caught')
    failed |= caught != len(BREAKS)

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
            remove('vagrant/provision-node.sh')(root)
            ok, output = vagrant_validate(os.path.join(root, 'vagrant'), scratch)
            if ok or 'provision-node.sh' not in output:
                print(f'FAIL: vagrant validate accepted a missing provisioner script:\n{output}')
                failed = True
            else:
                print('vagrant validate refuses a missing provisioner script: ok')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
