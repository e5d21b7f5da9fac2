"""TEST DOUBLE of cloudify-fabric-plugin's fabric_plugin.tasks: the transport only.

The blueprint's operations are `fabric.fabric_plugin.tasks.run_commands`:
Cloudify's engine calls this module with the operation's inputs, exactly as it
would call the real plugin. The real plugin opens an SSH connection to
fabric_env's host and runs each command there; the lab's nodes have no sshd,
so this double runs each command inside the node whose address fabric_env
names, through the lab's own `scripts/lab exec`, keeping what the blueprint
relies on from the real plugin (cloudify-fabric-plugin 2.0.x):

- the same checks before connecting: a host, a user, and a key or password
  (NonRecoverableError otherwise);
- use_sudo wraps a command as the plugin does: echo 'COMMAND' | sudo -i --
  (so a command with a single quote breaks here as it would there);
- shell_env is exported in front of the command, as the plugin does;
- the command runs as fabric_env's user, through that user's login shell's
  `-c`, with the environment sshd gives (HOME, USER, LOGNAME, SHELL, PATH),
  with stderr merged into stdout (the plugin asks for a pty), each line logged;
- a command that exits non-zero stops the operation with an error that
  carries the exit status and the output (recoverable, so Cloudify's task
  retries apply), or NonRecoverableError when its status is listed in
  non_recoverable_error_exit_codes.

Which node has which address: HA_LAB_NODES, "ADDRESS=NODE,..." (scripts/lab
sets it); HA_LAB_EXEC: the lab's script.

Only run_commands: it is the one operation the blueprint uses. The plugin's
run_script (a script from the blueprint's resources, with a ctx proxy) is not
stood in for: an untested copy of it would claim a fidelity nothing shows, and
a blueprint that named it would fail here at once ("has no attribute").
"""
import os
import pwd
import subprocess

from cloudify.decorators import operation
from cloudify.exceptions import NonRecoverableError


class CommandFailed(RuntimeError):
    """What the plugin raises for a non-zero exit (invoke's UnexpectedExit).
    One message argument only: the engine rebuilds errors from their args."""


def _target(fabric_env):
    fabric_env = dict(fabric_env or {})
    host = fabric_env.get('host') or fabric_env.get('host_string')
    if not host:
        raise NonRecoverableError('host ip is missing')
    user = fabric_env.get('user')
    if not user:
        raise NonRecoverableError('ssh user definition missing')
    key_file = fabric_env.get('key_filename')
    if not (key_file or fabric_env.get('key') or fabric_env.get('password')):
        raise NonRecoverableError('key_filename/key or password missing')
    if key_file and not os.path.isfile(os.path.expanduser(key_file)):
        raise NonRecoverableError(f'key_filename {key_file} does not exist')
    nodes = dict(pair.split('=', 1) for pair in os.environ.get('HA_LAB_NODES', '').split(',') if '=' in pair)
    if host not in nodes:
        # SSH to an address nobody answers: a connection error, retried.
        raise ConnectionError(f'{host}: no lab node has this address (lab nodes: {nodes or "none"})')
    return nodes[host], user, fabric_env.get('shell_env') or {}


def _login_command(user, command):
    """The argv that runs COMMAND as sshd would for USER: its shell's -c."""
    entry = pwd.getpwnam(user)  # the nodes share the host's users
    base_path = '/usr/local/bin:/usr/bin:/bin:/usr/games'
    if entry.pw_uid == 0:
        base_path = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    env = ['env', '-i', f'HOME={entry.pw_dir}', f'USER={user}', f'LOGNAME={user}',
           f'SHELL={entry.pw_shell}', f'PATH={base_path}', 'LANG=C.UTF-8']
    as_user = [] if entry.pw_uid == 0 else ['setpriv', f'--reuid={entry.pw_uid}',
                                            f'--regid={entry.pw_gid}', '--init-groups']
    return as_user + env + [entry.pw_shell, '-c', command]


def _run(ctx, node, user, command, non_recoverable_codes):
    lab = os.environ.get('HA_LAB_EXEC')
    if not lab:
        raise NonRecoverableError('HA_LAB_EXEC is not set: this double runs only under scripts/lab')
    proc = subprocess.Popen([lab, 'exec', node] + _login_command(user, command),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors='replace')
    lines = []
    for line in proc.stdout:
        lines.append(line)
        ctx.logger.info('%s: %s', node, line.rstrip('\n'))
    status = proc.wait()
    if status != 0:
        ctx.logger.error('Fabric Results: return_code: %s', status)
        message = f'{node}: command exited with status {status}: {command}\n' + ''.join(lines)[-4000:]
        if status in (non_recoverable_codes or []):
            raise NonRecoverableError(message)
        raise CommandFailed(message)


def _with_sudo(command, use_sudo):
    if use_sudo:
        return "echo '{command}' | sudo -i --".format(command=command.strip('\n'))
    return command


def _with_shell_env(command, use_sudo, shell_env):
    exports = ''.join(f'export {k}={v};' for k, v in shell_env.items())
    # The plugin puts the exports after "echo '" when the command is wrapped.
    return command[:6] + exports + command[6:] if use_sudo else exports + command


@operation(resumable=True)
def run_commands(ctx, commands, fabric_env=None, use_sudo=False, **kwargs):
    node, user, shell_env = _target(fabric_env)
    for command in commands:
        ctx.logger.info('Running command: {0}'.format(command))
        wrapped = _with_shell_env(_with_sudo(command, use_sudo), use_sudo, shell_env)
        _run(ctx, node, user, wrapped, kwargs.get('non_recoverable_error_exit_codes'))
