"""Figure and sweep specs, executors, the runner and the result store."""
