"""The lab gateway: the only listener learners' AWS tools talk to. See app.py for the request pipeline."""
