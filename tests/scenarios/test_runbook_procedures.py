"""Every scenario under features/, run against the environment of ENV (default: the kind environment)."""
from pytest_bdd import scenarios

scenarios("../../features")
