"""Settings, the `jbl` command line, channel adapters and the wiring of it all."""
