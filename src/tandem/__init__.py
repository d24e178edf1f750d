"""Tandem: run digital as a shared business.

The public Python API starts at `Workspace`::

    from tandem import Workspace

    ws = Workspace.init("acme", company="Acme Retail")
    ws.ownership.import_file("ownership.yaml")
    for finding in ws.ownership.findings():
        print(finding.severity, finding.title)
"""

from tandem.errors import TandemError
from tandem.workspace import Workspace

__all__ = ["TandemError", "Workspace", "__version__"]
__version__ = "0.1.0"
