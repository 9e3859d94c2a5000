"""The demo world: simulated companies, a real mail server, and the replayed 2010 survey."""
