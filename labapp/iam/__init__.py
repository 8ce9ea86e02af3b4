"""IAM policy evaluation as AWS documents it; see README.md. labapp/sandbox/authorization enforces it."""

from .compiler import cache_clear, compile_policy
from .conditions import PolicyError
from .engine import evaluate, is_allowed, request_context
from .model import (ALLOW, BOUNDARY, EXPLICIT_DENY, IDENTITY, IMPLICIT_DENY, RESOURCE, SESSION, Decision,
                    Match, Policy, Principal, Request, Resource)

__all__ = ["ALLOW", "BOUNDARY", "EXPLICIT_DENY", "IDENTITY", "IMPLICIT_DENY", "RESOURCE", "SESSION",
           "Decision", "Match", "Policy", "PolicyError", "Principal", "Request", "Resource", "cache_clear",
           "compile_policy", "evaluate", "is_allowed", "request_context"]
