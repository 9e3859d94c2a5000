"""The reporting stage: metrics from the store with pandas, HTML leaderboards and exports."""
