"""Cloudify's DSL imports answered from this folder, never from a network.

The blueprint imports `cloudify/types/types.yaml` (what a Cloudify manager
serves) and `plugin:cloudify-fabric-plugin` (the plugin's plugin.yaml). With no
manager, the parser would fetch the first from a manager's REST service
("resource:..." URLs) and hand the second to the resolver: both come from
cloudify-definitions/ here (see its README.md). Any other remote import is
refused, so a parse never leaves the machine.
"""
import os

from dsl_parser import exceptions
from dsl_parser.import_resolver.abstract_import_resolver import (
    AbstractImportResolver, read_import)

DEFINITIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'cloudify-definitions')


class OfflineResolver(AbstractImportResolver):
    def fetch_import(self, import_url, **kwargs):
        if import_url.startswith('resource:cloudify/types/'):
            name = import_url[len('resource:cloudify/types/'):]
            return self._read(os.path.join(DEFINITIONS, 'types', name), import_url)
        if import_url.startswith('plugin:'):
            return self.resolve(import_url)
        if import_url.startswith('file:'):
            return read_import(import_url)
        return self.resolve(import_url)

    def resolve(self, import_url):
        if import_url.startswith('plugin:'):
            name = import_url[len('plugin:'):].split('?')[0]
            return self._read(os.path.join(DEFINITIONS, 'plugins', name, 'plugin.yaml'), import_url)
        raise exceptions.DSLParsingLogicException(
            13, f'Import failed: {import_url}: this offline parse answers only '
                'cloudify/types/... and plugin:NAME from ' + DEFINITIONS)

    def retrieve_plugin(self, import_url, **kwargs):
        return None

    @staticmethod
    def _read(path, import_url):
        if not os.path.isfile(path):
            # A missing candidate (types_1_3.yaml before types.yaml): the
            # parser tries the next location on this error.
            raise exceptions.DSLParsingLogicException(
                13, f'Import failed: Unable to open import url {import_url}; no {path}')
        with open(path) as f:
            return f.read()
