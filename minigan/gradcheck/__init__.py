"""Finite-difference gradient checks, first and second order, and the registry listing the check
of every op (`register`, `Arg`, `OpCheck`, `checks`)."""
from minigan.gradcheck.checker import (GradcheckError, GradcheckResult, NondifferentiableError,
                                       RegistryCheckResult, check_gradients, gradcheck, gradgradcheck,
                                       run_registry_check)
from minigan.gradcheck.registry import Arg, OpCheck, checks, register
