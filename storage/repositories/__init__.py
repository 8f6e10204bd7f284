"""One module per aggregate: the queries the dialogs and commands need, and nothing else."""
