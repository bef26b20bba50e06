"""Project members: who may work in which project, with which project role."""
