"""Everything that meets a person or a socket: workstation, CLI, server, market-data feeds."""
