"""The four domains of the AWS Certified Developer – Associate exam (DVA-C02), and which module's
questions count towards which.

Questions carry no domain of their own: each counts towards the domain of its module, by the module's
slug, in MODULE_DOMAINS below. That is an approximation (a module can touch two domains: the CloudFront
module's "securing content" lesson is security, its caching lesson optimisation); each module sits where
most of its questions sit. A module missing from the table still shows, under OTHER, so a new module
never drops out of the results; tests/quizzes/test_domains.py checks that every module of the course
has a domain.

The exam guide weights the domains 32 / 26 / 24 / 18 per cent; the practice exam draws questions by
module (services.draw_exam_questions), so these weights are not enforced.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    number: int
    title: str

    @property
    def slug(self) -> str:
        return f"domain-{self.number}"


DEVELOPMENT = Domain(1, "Development with AWS Services")
SECURITY = Domain(2, "Security")
DEPLOYMENT = Domain(3, "Deployment")
TROUBLESHOOTING = Domain(4, "Troubleshooting and Optimization")
OTHER = Domain(9, "Other topics")
DOMAINS = (DEVELOPMENT, SECURITY, DEPLOYMENT, TROUBLESHOOTING)

MODULE_DOMAINS: dict[str, Domain] = {
    # Writing code against AWS data stores and APIs.
    "s3": DEVELOPMENT,
    "s3-advanced": DEVELOPMENT,
    "databases": DEVELOPMENT,
    "cli-sdk": DEVELOPMENT,
    "ebs-efs": DEVELOPMENT,
    # Identities, permissions, network boundaries.
    "iam": SECURITY,
    "vpc": SECURITY,
    # Getting the application onto compute.
    "ec2": DEPLOYMENT,
    "containers": DEPLOYMENT,
    "beanstalk": DEPLOYMENT,
    # Scaling, caching, health checks and failover.
    "elb-asg": TROUBLESHOOTING,
    "route53": TROUBLESHOOTING,
    "cloudfront": TROUBLESHOOTING,
}


def domain_of(module) -> Domain:
    return MODULE_DOMAINS.get(module.slug, OTHER)
