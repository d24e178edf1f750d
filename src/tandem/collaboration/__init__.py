"""Collaboration: anonymous pulse surveys (this package's `surveys`), the couples network and
joint initiatives. Reached through a workspace: `ws.surveys`."""
