"""The local stack: install, start, check and stop every backing server of the portal."""
