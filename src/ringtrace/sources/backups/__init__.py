"""Phone backups kept on computers: iTunes/Finder iOS backups (``ios``)."""
