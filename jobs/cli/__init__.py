"""The command line: one module per command group over the shared output API (`output`)."""
