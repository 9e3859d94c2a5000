"""The application layer: one module per command, on top of the ground and the stages.

    ground (audit.models, lifecycle, config, store, clock, errors, tokens, logs)
      <- stages (probes, inbox, reports: each imports only the ground)
        <- application (audit.app.*: the commands; audit.cli: the thin CLI)
          <- the demo and the benchmarks

A command opens what it needs once through ``audit.app.session`` and returns plain data;
the CLI shows it. ``audit.pipeline`` re-exports the commands' public functions for code
written against the earlier single module.
"""
